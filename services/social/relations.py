"""Block, unblock, mute and unmute: the use cases, and the caller's own lists of them.

Built like ``follows.py``: a command reads what the graph store knows about the pair, lets
``domain/graph/rules.py`` decide the facts, appends them through the service's transactional
event log under the shared write lock, and applies them to the graph store with every input
position it moved in one write batch.

A block's facts sit on two topics, in one Kafka transaction: the ``Blocked`` (or ``Muted``...)
on ``planet.social.blocks.v1`` under the actor's key (private: never sunk), and each follow
it ends as an ``Unfollowed`` on ``planet.social.graph.v1`` under **its follower's** key. The
follower's key is what keeps a rebuild right: the end of b's follow of a sits on b's
partition after b's ``Followed``, so replaying the log in any interleaving of partitions
never brings the follow back. The graph tail and the blocks tail (``follows.GraphTail`` over
each topic) read them back from the store's own offsets.

Blocks and mutes are private: only their author lists them (the servicer checks the caller).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from google.protobuf.message import Message

from planet.social.v1 import graph_pb2 as graph
from planet.social.v1 import social_service_pb2 as rpc
from planetkit.envelope import wrap
from planetkit.kafka.partitioning import partition_for
from planetkit.service_identities import SOCIAL
from services.social.adapters.graph_store import GraphStore
from services.social.adapters.kafka_log import Append
from services.social.domain import account as acc
from services.social.domain.errors import Invalid, NotFound, NotServing
from services.social.domain.graph import rules
from services.social.domain.graph.apply import Side
from services.social.domain.validation import check_user_id
from services.social.follows import DEFAULT_PAGE, MAX_PAGE, source_name
from services.social.handlers import EventLog, SocialHandlers, event_id_for

BLOCK_FACTS: tuple[type[Message], ...] = (graph.Blocked, graph.Unblocked, graph.Muted,
                                          graph.Unmuted)
Rule = Callable[[str, str, rules.EdgeView, int], list[Message]]
_RULES: dict[str, Rule] = {"block": rules.block, "unblock": rules.unblock,
                           "mute": rules.mute, "unmute": rules.unmute}


class RelationHandlers:
    """Blocks and mutes over the graph store and the event log."""

    def __init__(self, accounts: SocialHandlers, store: GraphStore, log_: EventLog, *,
                 graph_topic: str, blocks_topic: str, partitions: int,
                 clock_ms: Callable[[], int]) -> None:
        self._accounts = accounts
        self._store = store
        self._log = log_
        self._graph_topic = graph_topic
        self._blocks_topic = blocks_topic
        self._partitions = partitions
        self._clock_ms = clock_ms

    def _ready(self) -> None:
        if not self._accounts.serving:
            raise NotServing("the social service is restoring its state; retry")

    def _known(self, user: str, other: str, view: rules.EdgeView) -> None:
        """NotFound unless social knows ``other``: the exchange reported them (KYC), they
        hold an identity, they are in the follow graph, or ``user`` already blocks or mutes
        them (so an undo always works). A block is for any user, creator or not: a creator
        must be able to block a follower who never passed KYC."""
        if view.blocks or view.mutes or view.following or view.followed_by:
            return
        state = self._accounts.account(other)
        if state.kyc_verified_at_ms or acc.has_identity(state):
            return
        if self._store.follower_count(other) or self._store.following_count(other):
            return
        raise NotFound("no user with this user id")

    def _state(self, user: str, other: str) -> rpc.RelationState:
        view = self._store.view(user, other)
        return rpc.RelationState(blocking=view.blocks, muting=view.mutes,
                                 following=view.following)

    def relation(self, user: str, other: str) -> rpc.RelationState:
        """``user``'s relation to ``other`` as the store knows it now (content asks whether a
        post's author blocks the user commenting on, liking or sharing it)."""
        check_user_id(user)
        check_user_id(other)
        if "\x00" in user or "\x00" in other:
            raise Invalid("a user id must not contain NUL")
        self._ready()
        return self._state(user, other)

    async def decide(self, action: str, user: str, other: str) -> rpc.RelationState:
        """``user`` blocks, unblocks, mutes or unmutes ``other``; a repeat changes nothing."""
        rule = _RULES[action]
        check_user_id(user)
        check_user_id(other)
        if "\x00" in user or "\x00" in other:
            raise Invalid("a user id must not contain NUL")
        async with self._accounts.write_lock:
            self._ready()
            view = self._store.view(user, other)
            if user != other:
                self._known(user, other, view)
            try:
                facts = rule(user, other, view, self._clock_ms())
            except rules.GraphRuleError as exc:  # oneself: the only refusal of these rules
                raise Invalid(str(exc)) from None
            if facts:
                await self._append(facts)
            return self._state(user, other)

    def _placed(self, fact: Message) -> tuple[str, str]:
        """(topic, key) of a fact: blocks and mutes under their actor, an ended follow under
        its follower (see the module's docstring for why)."""
        if isinstance(fact, graph.Unfollowed):
            return self._graph_topic, fact.follower_id
        if isinstance(fact, graph.Blocked | graph.Unblocked):
            return self._blocks_topic, fact.blocker_id
        if isinstance(fact, graph.Muted | graph.Unmuted):
            return self._blocks_topic, fact.muter_id
        raise TypeError(f"not a relation fact: {type(fact).__name__}")

    async def _append(self, facts: Sequence[Message]) -> None:
        now = self._clock_ms()
        appends: list[Append] = []
        sources: list[str] = []
        seen: dict[str, int] = {}
        for fact in facts:
            topic, key = self._placed(fact)
            partition = partition_for(key, self._partitions)
            source = source_name(topic, partition)
            # (key, the partition's next offset as the store knows it, index) names each
            # fact once: the store's offset grows with every append, a failed append (nothing
            # visible) retried reuses the id. Graph facts share follows.py's id space.
            seen[source] = seen.get(source, 0) + 1
            kind = "graph" if topic == self._graph_topic else "blocks"
            base = self._store.applied(source)
            appends.append(Append(topic, partition, wrap(
                fact, event_id=event_id_for(f"{key}\x00{base}", kind, seen[source]),
                source=SOCIAL, aggregate_id=key, occurred_at_ms=now)))
            sources.append(source)
        offsets = await self._log.append(appends)
        positions: dict[str, int] = {}
        for source, offset in zip(sources, offsets, strict=True):
            positions[source] = max(positions.get(source, 0), offset + 1)
        self._store.apply(facts, Side.BOTH, offsets=positions)

    async def block(self, user: str, other: str) -> rpc.RelationState:
        """Block ``other``: ends any follow between the two, either way."""
        return await self.decide("block", user, other)

    async def unblock(self, user: str, other: str) -> rpc.RelationState:
        """Lift a block (ended follows stay ended)."""
        return await self.decide("unblock", user, other)

    async def mute(self, user: str, other: str) -> rpc.RelationState:
        """Mute ``other`` (follows and bells stay)."""
        return await self.decide("mute", user, other)

    async def unmute(self, user: str, other: str) -> rpc.RelationState:
        """Unmute ``other``."""
        return await self.decide("unmute", user, other)

    def page(self, which: str, user: str, cursor: str, limit: int) -> rpc.FollowPage:
        """The ``blocked`` or ``muted`` users of ``user`` after ``cursor`` (for ``user`` only:
        the servicer checks the caller)."""
        self._ready()
        check_user_id(user)
        limit = limit or DEFAULT_PAGE
        if not 1 <= limit <= MAX_PAGE:
            raise Invalid(f"limit must be 1 to {MAX_PAGE}")
        lister = self._store.blocked if which == "blocked" else self._store.muted
        try:
            page = lister(user, cursor, limit)
        except ValueError as exc:
            raise Invalid(f"bad user id or cursor: {exc}") from None
        return rpc.FollowPage(user_ids=page.ids, next_cursor=page.next_cursor or "")
