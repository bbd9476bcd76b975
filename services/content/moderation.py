"""The moderation use cases: report an item, the operators' queues, confirm or dismiss the
reports of an item (a confirmation removes it), appeal a removal, decide the appeal (an
upheld appeal restores the item).

Every decision about an item is taken by the replica that owns its POST's partition (of the
posts topic and, co-partitioned, of planet.content.moderation.v1), forwarded there once
otherwise, like an interaction: that replica reads the post, the comment (interaction store)
and the item's moderation (moderation store) locally. Decisions about one post and its
comments take turns (a lock per post id): read the state, append the facts in one Kafka
transaction (``adapters/partition_writer.PartitionTransactions``, label "moderation"),
apply them to the moderation store, then the next.

A post's removal and restoration go, in that same transaction, to the author-posts partition
of its author and the topic-posts partition of each of its topics (the same envelope), so the
author's list and the topic pages drop it, and list it again, without asking this replica
(``domain/post_events.moderated`` folds them there).

The queues span every partition. The replica asked gathers the first ``limit + 1`` items
after the cursor from each partition (its own stores, and one call per other owner, who
answers all the partitions it owns at once) and merges them (``domain/moderation.
merge_pages``): one round trip per replica per page, whatever the queue's length; the cost
grows with the number of replicas, not of reports. Operators are few and read pages of at
most 100, so this beats keeping a second, global index (a topic every replica would read
whole) that would have to be rebuilt and kept in step.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol, TypeVar

from google.protobuf.message import Message

from planet.content.v1 import interactions_pb2 as ipb
from planet.content.v1 import reports_pb2 as rp
from planet.events.v1.envelope_pb2 import Envelope
from planetkit.envelope import encode, wrap
from planetkit.service_auth import Caller
from planetkit.service_identities import CONTENT
from services.content.adapters.partition_writer import Record
from services.content.domain.errors import NotServing
from services.content.domain.interactions import checked_request_id, checked_user_id, post_of_item
from services.content.domain.model import Post
from services.content.domain.moderation import (
    ModerationConflict,
    ModerationEvent,
    ModerationNotFound,
    ModerationRefused,
    QueueCursor,
    checked_appeal,
    checked_detail,
    checked_note,
    checked_reason,
    decode_cursor,
    encode_cursor,
    is_removed,
    item_kind,
    main_reason,
    merge_pages,
    moderation_event_id,
    queue_page_limit,
    report_id_for,
)
from services.content.domain.post_rules import is_operator
from services.content.routing import owner_address

PostModeration = rp.ItemRemoved | rp.ItemRestored
# The answer a forwarded call is checked to be.
_Answer = TypeVar("_Answer", bound=Message)


class ModerationStore(Protocol):
    """One partition's moderation (adapters/moderation_store.py)."""

    def state(self, item_id: str) -> rp.ItemModeration | None:
        """The item's moderation."""

    def report(self, report_id: str) -> rp.ItemReported | None:
        """A report by id."""

    def put_decided(self, events: Iterable[ModerationEvent]) -> None:
        """Apply committed facts ahead of the tail."""

    def queue(self, queue: int, after: QueueCursor | None, count: int
              ) -> list[rp.ItemModeration]:
        """Up to ``count`` items of ``queue`` after ``after``, oldest first."""


class ModerationStores(Protocol):
    """This replica's moderation stores."""

    def store(self, partition: int) -> ModerationStore:
        """The store of ``partition``."""


class PostLookup(Protocol):
    """One partition's posts (the raw posts store: removal is decided here)."""

    def get(self, post_id: str) -> Post | None:
        """The post."""


class PostLookups(Protocol):
    """The posts stores."""

    def store(self, partition: int) -> PostLookup:
        """The store of ``partition``."""


class CommentLookup(Protocol):
    """One partition's interactions (the raw interaction store)."""

    def comment(self, comment_id: str) -> ipb.Comment | None:
        """A comment."""


class CommentLookups(Protocol):
    """The interaction stores."""

    def store(self, partition: int) -> CommentLookup:
        """The store of ``partition``."""


class Transactions(Protocol):
    """adapters/partition_writer.PartitionTransactions."""

    async def own(self, partitions: Iterable[int]) -> None:
        """Append only for these partitions (fencing their previous owners)."""

    async def append(self, partition: int, records: Sequence[Record]) -> None:
        """Append ``records`` in one transaction; EventLogUnavailable if not committed."""


class AuthorPostCopies(Protocol):
    """Copies of a post's removal for the other lists (author page, topic pages)."""

    def records(self, post: Post, value: bytes) -> list[Record]:
        """The copies of one encoded envelope about ``post``."""

    def applied(self, post: Post, events: Sequence[tuple[Envelope, PostModeration]]) -> None:
        """Apply just-committed copies to the stores kept here."""


class ModerationPeers(Protocol):
    """The owner replicas' ReportService (PeerFailed when one does not answer)."""

    async def forward(self, addr: str, method: str, request: Message, caller: Caller
                      ) -> Message:
        """The owner's answer to ``request`` for ReportService/``method``."""


class Ownership(Protocol):
    """Who owns which partition (services.content.handlers.Ownership)."""

    partitions: int
    addr: str
    owners: dict[int, str]
    local: frozenset[int]
    serving: bool

    def partition_of(self, post_id: str) -> int:
        """The partition a post id lives on."""


class Moderation:
    """The use cases over the local stores, the moderation log and the owner replicas."""

    def __init__(self, posts: PostLookups, comments: CommentLookups, stores: ModerationStores,
                 txns: Transactions, topic: str, copies: AuthorPostCopies,
                 peers: ModerationPeers, ownership: Ownership, clock_ms: Callable[[], int]
                 ) -> None:
        self._posts = posts
        self._comments = comments
        self._stores = stores
        self._txns = txns
        self._topic = topic
        self._copies = copies
        self._peers = peers
        self._ownership = ownership
        self._clock_ms = clock_ms
        self._locks: dict[str, asyncio.Lock] = {}
        self._owned: frozenset[int] | None = None
        self._owning = asyncio.Lock()

    # Placement ----------------------------------------------------------------------------

    def _owner(self, partition: int, caller: Caller) -> str | None:
        return owner_address(self._ownership, partition, caller, "posts")

    async def _forward(self, addr: str, method: str, request: Message, caller: Caller,
                       answer_type: type[_Answer]) -> _Answer:
        answer = await self._peers.forward(addr, method, request, caller)
        assert isinstance(answer, answer_type)
        return answer

    def _lock(self, post_id: str) -> asyncio.Lock:
        return self._locks.setdefault(post_id, asyncio.Lock())

    def _release(self, post_id: str, lock: asyncio.Lock) -> None:
        if not lock.locked() and self._locks.get(post_id) is lock:
            del self._locks[post_id]

    async def _append(self, partition: int, caller: Caller, item_id: str,
                      facts: Sequence[tuple[str, ModerationEvent]], now: int,
                      post: Post | None = None) -> None:
        """Append ``facts`` (event id, payload) about one item in one transaction, with the
        copies of a post's removal or restoration when ``post`` is given; then apply them."""
        self._owner(partition, caller)  # ownership may have moved while waiting for the lock
        async with self._owning:
            local = self._ownership.local
            if local != self._owned:
                await self._txns.own(local)
                self._owned = local
        post_id = post_of_item(item_id)
        records: list[Record] = []
        copies: list[tuple[Envelope, PostModeration]] = []
        for event_id, payload in facts:
            envelope = wrap(payload, event_id=event_id, source=CONTENT, aggregate_id=item_id,
                            occurred_at_ms=now,
                            aggregate_version=getattr(payload, "moderation_version", 0))
            value = encode(envelope)
            records.append(Record(self._topic, post_id.encode(), value, partition))
            if post is not None and isinstance(payload, rp.ItemRemoved | rp.ItemRestored):
                records.extend(self._copies.records(post, value))
                copies.append((envelope, payload))
        await self._txns.append(partition, records)
        self._stores.store(partition).put_decided(p for _, p in facts)
        if post is not None and copies:
            self._copies.applied(post, copies)

    # Reading an item ------------------------------------------------------------------------

    def _item(self, partition: int, item_id: str
              ) -> tuple[rp.ModeratedKind.ValueType, str, Post]:
        """(kind, author, post) of a live item here; ModerationNotFound when it is not one
        (unknown, deleted)."""
        kind = item_kind(item_id)
        post_id = post_of_item(item_id)
        post = self._posts.store(partition).get(post_id)
        if post is None or post.deleted_at_ms:
            raise ModerationNotFound(f"item {item_id} not found")
        if kind == rp.MODERATED_KIND_POST:
            return kind, post.creator_id, post
        comment = self._comments.store(partition).comment(item_id)
        if comment is None or comment.deleted:
            raise ModerationNotFound(f"item {item_id} not found")
        return kind, comment.author_id, post

    def _visible(self, state: rp.ItemModeration | None, caller: Caller) -> rp.ItemModeration:
        """The state when the caller may see it (the item's author, operators)."""
        if state is None or not (is_operator(caller.roles) or (
                caller.user_id and caller.user_id == state.author_id)):
            raise ModerationNotFound("no moderation of this item is visible to you")
        return state

    # Reports ---------------------------------------------------------------------------------

    async def report(self, request: rp.ReportItemRequest, caller: Caller
                     ) -> rp.ReportItemResponse:
        """File a report; a repeat in the same round answers the first."""
        reporter = checked_user_id(request.reporter_id)
        if request.request_id:
            checked_request_id(request.request_id)
        item_id = request.item_id
        kind = item_kind(item_id)
        reason = checked_reason(request.reason)
        detail = checked_detail(request.detail)
        post_id = post_of_item(item_id)
        partition = self._ownership.partition_of(post_id)
        owner = self._owner(partition, caller)
        if owner is not None:
            answer = await self._forward(owner, "ReportItem", request, caller,
                                         rp.ReportItemResponse)
            return answer
        store = self._stores.store(partition)
        lock = self._lock(post_id)
        try:
            async with lock:
                kind, author, _ = self._item(partition, item_id)
                state = store.state(item_id)
                post_state = store.state(post_id) if kind == rp.MODERATED_KIND_COMMENT else None
                if is_removed(state) or is_removed(post_state):
                    raise ModerationNotFound(f"item {item_id} not found")
                if author == reporter:
                    raise ModerationRefused("you cannot report your own post or comment")
                round_ = 0 if state is None else state.round
                report_id = report_id_for(reporter, item_id, round_)
                if (existing := store.report(report_id)) is not None:
                    return _report_answer(existing, created=False)
                now = self._clock_ms()
                event = rp.ItemReported(
                    report_id=report_id, item_id=item_id, kind=kind, post_id=post_id,
                    item_author_id=author, reporter_id=reporter, reason=reason, detail=detail,
                    at_ms=now, round=round_)
                await self._append(partition, caller, item_id,
                                   [(moderation_event_id(report_id, "reported", round_), event)],
                                   now)
                return _report_answer(event, created=True)
        finally:
            self._release(post_id, lock)

    async def queue(self, request: rp.ListQueueRequest, caller: Caller
                    ) -> rp.ListQueueResponse:
        """A page of the operators' queue, oldest first, merged over every partition."""
        _operator(caller)
        limit = queue_page_limit(request.limit)
        after = decode_cursor(request.cursor)
        if request.partitions_only:
            # A merging replica asks for the partitions it believes are owned here.
            pages: list[rp.ItemModeration] = []
            for partition in request.partitions:
                if partition not in self._ownership.local:
                    raise NotServing(f"partition {partition} is moving between replicas; "
                                     "retry")
                pages.extend(self._stores.store(partition).queue(request.queue, after,
                                                                 limit + 1))
            return rp.ListQueueResponse(items=pages)
        if not self._ownership.serving:
            raise NotServing("content is restoring or rebalancing its partitions; retry")
        by_owner: dict[str, list[int]] = {}
        local: list[list[rp.ItemModeration]] = []
        for partition in range(self._ownership.partitions):
            if partition in self._ownership.local:
                local.append(self._stores.store(partition).queue(request.queue, after,
                                                                 limit + 1))
                continue
            addr = self._ownership.owners.get(partition)
            if not addr or addr == self._ownership.addr:
                raise NotServing(f"partition {partition} is moving between replicas; retry")
            by_owner.setdefault(addr, []).append(partition)
        answers = await asyncio.gather(*(
            self._forward(addr, "ListQueue", rp.ListQueueRequest(
                queue=request.queue, cursor=request.cursor, limit=limit, partitions=parts,
                partitions_only=True), caller, rp.ListQueueResponse)
            for addr, parts in by_owner.items()))
        remote = [list(a.items) for a in answers if isinstance(a, rp.ListQueueResponse)]
        items, following = merge_pages(request.queue, [*local, *remote], limit)
        return rp.ListQueueResponse(
            items=items, next_cursor="" if following is None else encode_cursor(following))

    async def decide_reports(self, request: rp.DecideReportsRequest, caller: Caller
                             ) -> rp.ItemModeration:
        """Confirm (remove the item) or dismiss its open reports."""
        operator = _operator(caller)
        item_id = request.item_id
        item_kind(item_id)
        note = checked_note(request.note)
        if request.reason:
            checked_reason(request.reason)
        if request.request_id:
            checked_request_id(request.request_id)
        post_id = post_of_item(item_id)
        partition = self._ownership.partition_of(post_id)
        owner = self._owner(partition, caller)
        if owner is not None:
            answer = await self._forward(owner, "DecideReports", request, caller,
                                         rp.ItemModeration)
            return answer
        store = self._stores.store(partition)
        lock = self._lock(post_id)
        try:
            async with lock:
                state = store.state(item_id)
                if state is None:
                    raise ModerationNotFound(f"item {item_id} has no reports")
                if request.request_id and state.last_decision_request_id == request.request_id:
                    return state  # this decision was taken: a retry
                if not state.open_reports:
                    raise ModerationConflict(f"item {item_id} has no open reports to decide")
                now = self._clock_ms()
                facts: list[tuple[str, ModerationEvent]] = [(
                    moderation_event_id(item_id, "decided", state.round),
                    rp.ReportDecided(
                        item_id=item_id, kind=state.kind, post_id=post_id,
                        item_author_id=state.author_id, confirmed=request.confirm,
                        operator_id=operator, note=note, round=state.round,
                        reports=state.open_reports, at_ms=now, request_id=request.request_id))]
                post: Post | None = None
                if request.confirm and not state.removed_at_ms:
                    version = state.moderation_version + 1
                    facts.append((moderation_event_id(item_id, "removed", version),
                                  rp.ItemRemoved(
                                      item_id=item_id, kind=state.kind, post_id=post_id,
                                      author_id=state.author_id,
                                      reason=request.reason or main_reason(state), note=note,
                                      operator_id=operator, at_ms=now,
                                      moderation_version=version)))
                    post = self._post_for_copies(partition, state)
                await self._append(partition, caller, item_id, facts, now, post)
                return _state(store, item_id)
        finally:
            self._release(post_id, lock)

    def _post_for_copies(self, partition: int, state: rp.ItemModeration) -> Post | None:
        if state.kind != rp.MODERATED_KIND_POST:
            return None
        return self._posts.store(partition).get(state.post_id)

    # Appeals ---------------------------------------------------------------------------------

    async def appeal(self, request: rp.AppealRemovalRequest, caller: Caller
                     ) -> rp.ItemModeration:
        """The author appeals the removal of their item, once per removal."""
        author = checked_user_id(request.author_id)
        item_id = request.item_id
        item_kind(item_id)
        text = checked_appeal(request.text)
        if request.request_id:
            checked_request_id(request.request_id)
        post_id = post_of_item(item_id)
        partition = self._ownership.partition_of(post_id)
        owner = self._owner(partition, caller)
        if owner is not None:
            answer = await self._forward(owner, "AppealRemoval", request, caller,
                                         rp.ItemModeration)
            return answer
        store = self._stores.store(partition)
        lock = self._lock(post_id)
        try:
            async with lock:
                state = store.state(item_id)
                if state is None or state.author_id != author or (
                        not state.removed_at_ms and state.appeal == rp.APPEAL_STATE_UNSPECIFIED):
                    raise ModerationNotFound(f"no removal of {item_id} of yours to appeal")
                if request.request_id and state.appeal_request_id == request.request_id:
                    return state  # this appeal was made: a retry
                if state.appeal != rp.APPEAL_STATE_UNSPECIFIED:
                    raise ModerationConflict(
                        "this removal was appealed already; a removal is appealed once")
                now = self._clock_ms()
                await self._append(partition, caller, item_id, [(
                    moderation_event_id(item_id, "appealed", state.moderation_version),
                    rp.RemovalAppealed(item_id=item_id, kind=state.kind, post_id=post_id,
                                       author_id=author, text=text, at_ms=now,
                                       moderation_version=state.moderation_version,
                                       request_id=request.request_id))], now)
                return _state(store, item_id)
        finally:
            self._release(post_id, lock)

    async def decide_appeal(self, request: rp.DecideAppealRequest, caller: Caller
                            ) -> rp.ItemModeration:
        """Uphold (restore the item) or deny a pending appeal."""
        operator = _operator(caller)
        item_id = request.item_id
        item_kind(item_id)
        note = checked_note(request.note)
        if request.request_id:
            checked_request_id(request.request_id)
        post_id = post_of_item(item_id)
        partition = self._ownership.partition_of(post_id)
        owner = self._owner(partition, caller)
        if owner is not None:
            answer = await self._forward(owner, "DecideAppeal", request, caller,
                                         rp.ItemModeration)
            return answer
        store = self._stores.store(partition)
        lock = self._lock(post_id)
        try:
            async with lock:
                state = store.state(item_id)
                if state is None:
                    raise ModerationNotFound(f"item {item_id} has no appeal")
                if request.request_id and state.last_decision_request_id == request.request_id:
                    return state
                if state.appeal != rp.APPEAL_STATE_PENDING:
                    raise ModerationConflict(f"item {item_id} has no pending appeal")
                now = self._clock_ms()
                facts: list[tuple[str, ModerationEvent]] = [(
                    moderation_event_id(item_id, "appeal-decided", state.moderation_version),
                    rp.AppealDecided(
                        item_id=item_id, kind=state.kind, post_id=post_id,
                        author_id=state.author_id, upheld=request.uphold,
                        operator_id=operator, note=note, at_ms=now,
                        moderation_version=state.moderation_version,
                        request_id=request.request_id))]
                post: Post | None = None
                if request.uphold:
                    version = state.moderation_version + 1
                    facts.append((moderation_event_id(item_id, "restored", version),
                                  rp.ItemRestored(
                                      item_id=item_id, kind=state.kind, post_id=post_id,
                                      author_id=state.author_id, operator_id=operator,
                                      at_ms=now, moderation_version=version)))
                    post = self._post_for_copies(partition, state)
                await self._append(partition, caller, item_id, facts, now, post)
                return _state(store, item_id)
        finally:
            self._release(post_id, lock)

    async def get(self, item_id: str, caller: Caller) -> rp.ItemModeration:
        """The item's moderation: its author's and operators' only."""
        item_kind(item_id)
        post_id = post_of_item(item_id)
        partition = self._ownership.partition_of(post_id)
        owner = self._owner(partition, caller)
        if owner is not None:
            answer = await self._forward(owner, "GetModeration",
                                         rp.GetModerationRequest(item_id=item_id), caller,
                                         rp.ItemModeration)
            return answer
        state = self._stores.store(partition).state(item_id)
        if state is not None and not is_operator(caller.roles):
            # The author sees the decisions, never who reported nor what the reports say.
            out = rp.ItemModeration()
            out.CopyFrom(state)
            out.open_reports = 0
            del out.reasons[:]
            out.first_reported_at_ms = out.last_reported_at_ms = 0
            out.last_decision_request_id = out.appeal_request_id = ""
            state = out if state.author_id == caller.user_id else None
        return self._visible(state, caller)


def _operator(caller: Caller) -> str:
    """The operator's id; ModerationRefused for anyone else."""
    if not is_operator(caller.roles) or not caller.user_id:
        raise ModerationRefused("only operators decide reports and appeals")
    return caller.user_id


def _report_answer(event: rp.ItemReported, *, created: bool) -> rp.ReportItemResponse:
    return rp.ReportItemResponse(report_id=event.report_id, item_id=event.item_id,
                                 reason=event.reason, reported_at_ms=event.at_ms,
                                 created=created)


def _state(store: ModerationStore, item_id: str) -> rp.ItemModeration:
    state = store.state(item_id)
    assert state is not None  # just applied
    return state
