"""The use cases (commands decided by the domain, reads from the stores) and the loop.

One instance owns every partition of planet.groups.events.v1 (its transactional id fences
any other). One writer task decides commands in arrival order and appends them by **group
commit**: the commands that arrived while the previous transaction was in flight (up to
PLANET_GROUPS_MAX_BATCH) are decided one after another, each against the store plus the
facts decided before it in the batch, and appended in ONE Kafka transaction. A group's facts
are still numbered by one writer with no gap, and a burst pays one transaction, not one per
command (bench/groups_commands.py: 82 commands/s with a transaction each, ~2 000/s batched).
Once committed, the batch's facts are folded into the store at once (read-your-writes: the
next command on a group sees its last_seq) and every caller gets its answer, refusals too (a
refusal may rest on facts decided before it); when the outcome is unknown every caller in
the batch gets UNAVAILABLE and retries with its request id. The tail reads the facts back
and skips them by seq, then stores its offset in the same batch as what it folded.

Idempotency: a command's facts carry its request hash in their event ids (``rq.<hash>.<seq>``);
the fold records what the command appended under that hash, so a retry (same actor, group and
request id) within 24 h of the first answers the first result and appends nothing, after a
restart or a rebuild too; later the result is forgotten and it is a new command.
An append whose outcome is unknown (a timeout) makes that partition resynchronise (wait
until the tail has read to the topic's end) before anything is decided there again.

Read positions are not group facts: a ReadPositionSet goes to the member index (keyed by
user) only, so 10 000 members reading never lengthen the group's log nor wake its readers.

Nothing here builds a client, a store or a clock: bootstrap.py hands them in.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import shutil
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import grpc
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2

from planet.groups.v1 import group_events_pb2 as ev
from planet.groups.v1 import groups_service_pb2 as rpc
from planetkit.envelope import wrap
from planetkit.grpc_health import Health
from planetkit.kafka.partitioning import partition_for
from planetkit.runner import LIVENESS, Lifecycle
from planetkit.service_identities import GROUPS
from services.groups.adapters.errors import NotServing
from services.groups.adapters.kafka_log import Append, KafkaEventLog, LogUnavailable
from services.groups.adapters.store import EVENTS, INDEX, PartitionStore, Stores
from services.groups.domain import commands as c
from services.groups.domain.decide import decide, load
from services.groups.domain.refusals import Refusal
from services.groups.domain.state import Key, State, header
from services.groups.reads import Reads

log = logging.getLogger(__name__)
# Membership facts copied to the member index, keyed by the user(s) they are about.
INDEX_FACTS = (ev.MemberJoined, ev.MemberLeft, ev.MemberKicked, ev.MemberBanned,
               ev.MemberUnbanned, ev.MemberRoleChanged, ev.OwnershipTransferred)


class CreatorCheck(Protocol):
    """Social's answer: does the user hold an open creator identity."""

    async def creator_open(self, user_id: str) -> bool:
        """True when open."""


@dataclass(frozen=True)
class Topics:
    """The names and partition count of the two topics this instance writes and reads."""

    events: str
    index: str
    partitions: int


def request_hash(group: str, actor: str, request_id: str) -> str:
    """The key a command's result is remembered under."""
    return hashlib.sha256(f"{group}\0{actor}\0{request_id}".encode()).hexdigest()[:32]


def new_group_id(actor: str, request_id: str) -> str:
    """A group id derived from the creating request: its retry lands on the same group (and
    the same partition, where the first result is remembered)."""
    return "g" + hashlib.sha256(f"{actor}\0{request_id}".encode()).hexdigest()[:24]


def new_link_id() -> str:
    """An unguessable invite code (URL-safe alphabet, 24 characters)."""
    return secrets.token_urlsafe(18)


def users_of(fact: Message) -> list[str]:
    """Whose index a membership fact goes to."""
    if isinstance(fact, ev.OwnershipTransferred):
        return [fact.actor_id, fact.new_owner_id]
    if isinstance(fact, ev.MemberLeft):
        return [fact.actor_id]
    return [str(getattr(fact, "user_id", ""))]


# Commands one group commit decides and appends at most (a Kafka transaction's size).
MAX_BATCH = 500  # the default of PLANET_GROUPS_MAX_BATCH


@dataclass(eq=False)
class _Pending:
    """A command waiting for the writer, and where its caller waits for the answer."""

    cmd: c.Command
    rq: str
    partition: int
    operator: bool
    creator_open: bool
    answer: asyncio.Future[rpc.CommandResult | Refusal]
    result: rpc.CommandResult | Refusal | None = None  # decided without an append


def _retrieved(answer: asyncio.Future[rpc.CommandResult | Refusal]) -> None:
    if not answer.cancelled():
        answer.exception()


def _answer(answer: asyncio.Future[rpc.CommandResult | Refusal], exc: BaseException | None,
            result: rpc.CommandResult | Refusal | None = None) -> None:
    """Settle a caller's future unless it is settled (or its caller gave up)."""
    if answer.done():
        return
    if exc is not None:
        answer.set_exception(exc)
    elif result is not None:
        answer.set_result(result)


class GroupsHandlers:
    """Commands over the partition stores and the event log; reads through ``reads``."""

    def __init__(self, stores: Stores, event_log: KafkaEventLog, topics: Topics,
                 creators: CreatorCheck, clock_ms: Callable[[], int],
                 caught_up: Callable[[int], Awaitable[bool | None]],
                 max_batch: int = MAX_BATCH) -> None:
        self._stores = stores
        self._max_batch = max_batch
        self._log = event_log
        self._topics = topics
        self._creators = creators
        self._clock_ms = clock_ms
        # Has the tail read an events partition to its end (None: a transaction is open)?
        self._caught_up = caught_up
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None
        self._resync: set[int] = set()
        self.serving = False
        self.reads = Reads(stores, topics.partitions, self._ready, clock_ms)

    def _ready(self) -> None:
        if not self.serving:
            raise NotServing("the groups service is restoring its state; retry")

    def partition(self, key: str) -> int:
        """The partition of a group id or user id."""
        return partition_for(key, self._topics.partitions)

    async def _synced(self, p: int) -> PartitionStore:
        """The partition's store, once it holds every committed fact (after an append whose
        outcome was unknown, the tail must have read to the end before deciding again)."""
        store = self._stores.store(p)
        if p in self._resync:
            deadline = time.monotonic() + 10.0
            while True:
                caught_up = await self._caught_up(p)
                if caught_up is None:
                    raise NotServing("an earlier append to this group's log is still being "
                                     "decided by Kafka; retry")
                if caught_up:
                    break
                if time.monotonic() > deadline:
                    raise NotServing("the group's log is being re-read; retry")
                await asyncio.sleep(0.02)
            self._resync.discard(p)
        return store

    async def command(self, cmd: c.Command, request_id: str,
                      operator: bool = False) -> rpc.CommandResult | Refusal:
        """Decide ``cmd`` and append its facts, or answer a retry's first result."""
        self._ready()
        request_id = request_id or uuid.uuid4().hex
        if isinstance(cmd, c.CreateGroup):
            cmd = replace(cmd, group_id=new_group_id(cmd.actor_id, request_id))
        if isinstance(cmd, c.CreateInviteLink):
            cmd = replace(cmd, link_id=new_link_id())
        group = cmd.group_id
        rq = request_hash(group, cmd.actor_id, request_id)
        p = self.partition(group)
        first = self._stores.store(p).request(group, rq)
        if first is not None:
            return first  # a retry of a command already stored: no trip through the writer
        creator_open = False
        if isinstance(cmd, c.CreateGroup):
            creator_open = await self._creators.creator_open(cmd.actor_id)
        answer: asyncio.Future[rpc.CommandResult | Refusal] = (
            asyncio.get_running_loop().create_future())
        answer.add_done_callback(_retrieved)  # a caller gone must not leave it "unretrieved"
        pending = _Pending(cmd, rq, p, operator, creator_open, answer)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_loop(), name="groups-writer")
        self._queue.put_nowait(pending)
        return await asyncio.shield(pending.answer)  # a caller gone does not undo its command

    async def stop(self) -> None:
        """Stop the writer task (commands still queued are answered "not serving")."""
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
        while not self._queue.empty():
            _answer(self._queue.get_nowait().answer,
                    NotServing("the groups service is stopping; retry"))

    async def _write_loop(self) -> None:
        """Take what arrived while the last transaction was in flight; decide, append once."""
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._max_batch and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await self._commit(batch)
            except Exception as exc:  # every caller hears of it; the writer goes on
                if not isinstance(exc, LogUnavailable | NotServing):
                    log.exception("group commit failed")
                for pending in batch:
                    _answer(pending.answer, exc)

    async def _commit(self, batch: list[_Pending]) -> None:
        """Decide ``batch`` in order over the stores plus what it decided so far; one append."""
        now = self._clock_ms()
        overlay: dict[int, dict[bytes, bytes | None]] = {}
        facts: dict[int, list[tuple[str, Message]]] = {}
        positions: list[tuple[PartitionStore, str, Message]] = []
        appends: list[Append] = []
        decided: list[_Pending] = []
        seen: set[tuple[str, str]] = set()
        unsynced: dict[int, NotServing] = {}  # one wait per partition and batch, not each
        for pending in batch:
            cmd, p = pending.cmd, pending.partition
            try:
                if p in unsynced:
                    raise unsynced[p]
                store = await self._synced(p)
            except NotServing as exc:
                unsynced[p] = exc
                _answer(pending.answer, exc)
                continue
            key = (cmd.group_id, pending.rq)
            if key in seen or store.request(*key) is not None:
                decided.append(pending)  # a retry in this batch, or stored meanwhile
                continue
            writes = overlay.setdefault(p, {})
            read = store.reader(writes)
            try:
                if isinstance(cmd, c.SetReadPosition):
                    pending.result = self._read_position(cmd, read, now, positions)
                    continue
                decision = decide(cmd, load(cmd, read, operator=pending.operator,
                                            creator_open=pending.creator_open), now)
            except Exception as exc:  # a bug in one command fails that command alone
                log.exception("deciding a group command failed")
                _answer(pending.answer, exc)
                continue
            if isinstance(decision, Refusal):
                pending.result = decision  # answered once the batch is committed: a
                continue  # refusal may rest on the facts decided before it
            if not decision:
                pending.result = rpc.CommandResult(group_id=cmd.group_id)
                continue
            # The seq, not the index, ends the event id: a command run again once its result
            # is forgotten (adapters/store.py REMEMBER_MS) must not repeat event ids.
            new = [(f"rq.{pending.rq}.{header(fact).seq}", fact) for fact in decision]
            writes.update(store.fold_facts(new, base=writes))
            facts.setdefault(p, []).extend(new)
            appends += [self._event(event_id, fact, now) for event_id, fact in new]
            appends += self._index_copies(new, now)
            seen.add(key)
            decided.append(pending)
        appends += [self._position_copy(user, fact, now) for _, user, fact in positions]
        if appends:
            try:
                await self._log.append(appends)
            except LogUnavailable:
                self._resync.update(facts)
                raise
        # Committed: store it all before anything else runs on this loop (no await below).
        for p, new in facts.items():
            store = self._stores.store(p)
            store.write(store.fold_facts(new))
        for user_store, user, fact in positions:
            # Read-your-writes for Unread; the tail folds the same copy again (max: no change).
            user_store.write(user_store.fold_index([(user, fact)]))
        for pending in decided:
            if not pending.answer.done():
                stored = self._stores.store(pending.partition).request(pending.cmd.group_id,
                                                                       pending.rq)
                assert stored is not None
                pending.answer.set_result(stored)
        for pending in batch:
            if pending.result is not None and not pending.answer.done():
                pending.answer.set_result(pending.result)

    def _event(self, event_id: str, fact: Message, now: int) -> Append:
        h = header(fact)
        return Append(self._topics.events, self.partition(h.group_id), h.group_id, wrap(
            fact, event_id=event_id, source=GROUPS, aggregate_id=h.group_id,
            occurred_at_ms=now, aggregate_version=h.seq))

    def _index_copies(self, facts: list[tuple[str, Message]], now: int) -> list[Append]:
        out: list[Append] = []
        for event_id, fact in facts:
            if not isinstance(fact, INDEX_FACTS):
                continue
            h = header(fact)
            for user in users_of(fact):
                out.append(Append(self._topics.index, self.partition(user), user, wrap(
                    fact, event_id=f"{event_id}.{user}", source=GROUPS,
                    aggregate_id=h.group_id, occurred_at_ms=now, aggregate_version=h.seq)))
        return out

    def _read_position(self, cmd: c.SetReadPosition, read: Callable[[Key], State | None],
                       now: int, positions: list[tuple[PartitionStore, str, Message]]
                       ) -> rpc.CommandResult | Refusal:
        """The domain checks the reader (a member, a position that exists); the position
        goes to the member index only (seq 0: not a group fact) and never moves back."""
        decision = decide(cmd, load(cmd, read), now)
        if isinstance(decision, Refusal):
            return decision
        result = rpc.CommandResult(group_id=cmd.group_id)
        user_store = self._stores.store(self.partition(cmd.actor_id))
        if not decision or cmd.read_seq <= user_store.read_seq(cmd.actor_id, cmd.group_id):
            return result
        fact = ev.ReadPositionSet(group_id=cmd.group_id, seq=0, at_ms=now,
                                  actor_id=cmd.actor_id, read_seq=cmd.read_seq)
        positions.append((user_store, cmd.actor_id, fact))
        return result

    def _position_copy(self, user: str, fact: Message, now: int) -> Append:
        group, read_seq = getattr(fact, "group_id"), getattr(fact, "read_seq")  # noqa: B009
        return Append(self._topics.index, self.partition(user), user, wrap(
            fact, event_id=f"rp.{group}.{user}.{read_seq}", source=GROUPS,
            aggregate_id=group, occurred_at_ms=now))


@dataclass(frozen=True)
class LoopConfig:
    """How the tail reads."""

    max_records: int = 5_000
    fetch_timeout_ms: int = 200
    shutdown_grace_s: float = 5.0


class GroupsService:
    """Serves gRPC and tails the two topics into the partition stores."""

    def __init__(self, config: LoopConfig, *, topics: Topics, server: grpc.aio.Server,
                 port: int, grpc_health: Health, consumer: AIOKafkaConsumer,
                 probe: AIOKafkaConsumer, producer: AIOKafkaProducer,
                 event_log: KafkaEventLog, stores: Stores, handlers: GroupsHandlers,
                 closers: list[Callable[[], Awaitable[None]]],
                 temp_dir: Path | None = None) -> None:
        self.config = config
        self.port = port
        self.handlers = handlers
        self.records_read = 0
        self.restore_s = 0.0
        self._topics = topics
        self._server = server
        self._grpc_health = grpc_health
        self._consumer = consumer
        self._probe = probe
        self._producer = producer
        self._event_log = event_log
        self._stores = stores
        self._closers = closers
        self._temp_dir = temp_dir
        self._kinds = {topics.events: EVENTS, topics.index: INDEX}

    @property
    def transactions(self) -> int:
        """Kafka transactions the writer committed (each a group commit of commands)."""
        return self._event_log.transactions

    def _tps(self) -> list[TopicPartition]:
        return [TopicPartition(t, p) for t in self._kinds for p in range(self._topics.partitions)]

    async def caught_up(self, partition: int) -> bool | None:
        """Has the tail read the events partition to its end (None: not settled yet)?

        The tail's end (read_committed) stops before an open transaction: an append whose
        commit timed out may still commit. Only this service writes the topic, so the
        partition is settled when that end equals the high watermark (``probe`` reads
        uncommitted); deciding before then could number two facts alike. The tail's
        position, not its store's offset, is compared: an aborted append ends the partition
        with a marker, which the position passes and no record carries (what the tail fetched
        is folded before it fetches again, with no wait in between)."""
        tp = TopicPartition(self._topics.events, partition)
        stable = int((await self._consumer.end_offsets([tp]))[tp])
        high = int((await self._probe.end_offsets([tp]))[tp])
        if stable < high:
            return None
        return int(await self._consumer.position(tp)) >= stable

    async def run(self, lifecycle: Lifecycle) -> None:
        """Restore, serve, tail; stop when ``lifecycle.stopping`` is set (or fenced)."""
        await self._grpc_health.servicer.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
        started = time.monotonic()
        try:
            # Fences any previous instance (and aborts its open transaction) before reading.
            await self._producer.start()
            await self._consumer.start()
            await self._probe.start()
            tps = self._tps()
            self._consumer.assign(tps)
            targets = await self._consumer.end_offsets(tps)
            for tp in tps:
                store = self._stores.store(tp.partition)
                kind = self._kinds[tp.topic]
                if store.applied[kind] > targets[tp]:
                    log.warning("group store ahead of its topic; rebuilding", extra={
                        "topic": tp.topic, "partition": tp.partition})
                    store.reset()
            for tp in tps:
                self._consumer.seek(tp, self._stores.store(tp.partition).applied[
                    self._kinds[tp.topic]])
            await self._server.start()
            restoring = True
            while not lifecycle.stopping.is_set() and not self._event_log.fenced.is_set():
                fetched = await self._consumer.getmany(
                    timeout_ms=self.config.fetch_timeout_ms, max_records=self.config.max_records)
                for tp, records in fetched.items():
                    store = self._stores.store(tp.partition)
                    kind = self._kinds[tp.topic]
                    fresh = [rec for rec in records if rec.offset >= store.applied[kind]]
                    store.apply(kind, fresh)
                    self.records_read += len(records)
                # Positions pass transaction markers, which no record carries; once every
                # partition's position reached its end at start, the state is correct.
                if restoring and all([await self._consumer.position(tp) >= end
                                      for tp, end in targets.items()]):
                    restoring = False
                    self.restore_s = time.monotonic() - started
                    self.handlers.serving = True
                    await self._grpc_health.set_serving(True)
                    await lifecycle.ready()
                    log.info("serving", extra={"restore_s": round(self.restore_s, 3),
                                               "records_read": self.records_read})
            if self._event_log.fenced.is_set():
                raise RuntimeError("fenced by another groups instance")
        finally:
            self.handlers.serving = False
            await self.handlers.stop()
            await self._grpc_health.set_serving(False)
            await self._grpc_health.shutting_down()
            await self._server.stop(self.config.shutdown_grace_s)
            await self._consumer.stop()
            await self._probe.stop()
            await self._producer.stop()
            for close in self._closers:
                await close()
            self._stores.close()
            if self._temp_dir is not None:
                shutil.rmtree(self._temp_dir, ignore_errors=True)

