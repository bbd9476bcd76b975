"""The use cases (identities, handles, sanctions, publisher checks) and the service's loop.

One instance owns every partition (the transactional id fences any other, see
adapters/kafka_log.py). Writes are decided and appended one at a time (one lock): a Kafka
transaction is one per producer anyway, and deciding a handle claim against the handle's
record and appending it under the same lock is what makes a handle unique. Reads take no
lock. An appended event is folded into the store at once (read-your-writes) and skipped by
its version when the tail reads it back.

Nothing here builds a client, a store or a clock: bootstrap.py hands them in.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import grpc
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord
from google.protobuf.message import Message
from grpc_health.v1 import health_pb2

from planet.social.v1 import events_pb2 as ev
from planet.social.v1 import social_service_pb2 as rpc
from planet.social.v1.state_pb2 import AccountState, HandleState
from planetkit.envelope import wrap
from planetkit.grpc_health import Health
from planetkit.kafka.partitioning import partition_for
from planetkit.runner import LIVENESS, Lifecycle
from planetkit.service_identities import SOCIAL
from services.social.adapters.account_store import AccountStores
from services.social.adapters.kafka_log import Append, KafkaEventLog
from services.social.domain import account as acc
from services.social.domain.errors import Invalid, NotFound, NotServing
from services.social.domain.handles import check_claimable, fold_handle
from services.social.domain.stored import HANDLES, IDENTITIES, KYC
from services.social.domain.validation import (
    ProfileFields,
    check_appeal,
    check_handle,
    check_reason,
    check_user_id,
)

log = logging.getLogger(__name__)
DAY_MS = 86_400_000


def event_id_for(aggregate: str, kind: str, version: int) -> str:
    """A stable event id: the same aggregate version always has the same id."""
    digest = hashlib.sha256(f"{kind}\x00{aggregate}\x00{version}".encode()).hexdigest()
    return f"evt_{digest[:24]}"


class EventLog(Protocol):
    """Where envelopes are appended atomically (the social topics in production)."""

    async def append(self, appends: list[Append]) -> list[int]:
        """Commit all or nothing and return the offsets; EventLogUnavailable otherwise."""


@dataclass(frozen=True)
class Topics:
    """The names of the topics this instance reads and writes."""

    identities: str
    handles: str
    kyc: str
    partitions: int


class SocialHandlers:
    """The use cases over the partition stores and the event log."""

    def __init__(self, stores: AccountStores, log_: EventLog, topics: Topics,
                 clock_ms: Callable[[], int], handle_reservation_ms: int) -> None:
        self._stores = stores
        self._log = log_
        self._topics = topics
        self._clock_ms = clock_ms
        self._reservation_ms = handle_reservation_ms
        self._write = asyncio.Lock()
        # Shared with the graph's commands (services/social/follows.py): one transactional
        # producer runs one transaction at a time.
        self.write_lock = self._write
        self.serving = False

    # --- reads --------------------------------------------------------------------------

    def _partition(self, key: str) -> int:
        return partition_for(key, self._topics.partitions)

    def _ready(self) -> None:
        if not self.serving:
            raise NotServing("the social service is restoring its state; retry")

    def account(self, user_id: str) -> AccountState:
        """The account's state (empty when unknown)."""
        self._ready()
        return self._stores.store(self._partition(user_id)).account(user_id)

    def handle_owner(self, handle: str) -> str | None:
        """The user holding ``handle`` now (reserved handles have no holder)."""
        self._ready()
        state = self._stores.store(self._partition(handle)).handle(handle)
        if state is None or not state.user_id or state.reserved_until_ms:
            return None
        return state.user_id

    def home_page(self, user_id: str = "", handle: str = "") -> rpc.HomePage:
        """The public home page by user id or handle; NotFound when there is none."""
        if handle:
            owner = self.handle_owner(handle)
            if owner is None:
                raise NotFound(f"no creator @{handle}")
            user_id = owner
        state = self.account(user_id)
        if not acc.has_identity(state):
            raise NotFound("no creator identity for this account")
        return acc.home_page(user_id, state)

    def sanctions(self, user_id: str) -> list[rpc.Sanction]:
        """The account's sanctions, with their status as of now."""
        now = self._clock_ms()
        out = []
        for s in self.account(user_id).sanctions:
            shown = rpc.Sanction()
            shown.CopyFrom(s)
            shown.status = acc.status_of(s, now)  # type: ignore[assignment]
            out.append(shown)
        return out

    def publisher_refusal(self, user_id: str) -> str:
        """"" when the user may publish; else the reason for the end user."""
        return acc.publisher_refusal(self.account(user_id))

    def mention_owner(self, name: str) -> str | None:
        """The user an @mention names: a handle's holder, else a user id the service knows
        (KYC, an identity or any account event); None when it names nobody. NotServing while
        restoring (an unknown answer then would refuse a valid post)."""
        self._ready()
        try:
            owner = self.handle_owner(name.lower())
        except ValueError:
            owner = None
        if owner is not None:
            return owner
        try:
            check_user_id(name)
        except (Invalid, ValueError):
            return None
        state = self.account(name)
        return name if (state.version or state.kyc_verified_at_ms
                        or acc.has_identity(state)) else None

    # --- writes -------------------------------------------------------------------------

    def _identity_append(self, user_id: str, state: AccountState, payload: Message,
                         now: int) -> Append:
        version = state.version + 1
        return Append(self._topics.identities, self._partition(user_id), wrap(
            payload, event_id=event_id_for(user_id, "identity", version), source=SOCIAL,
            aggregate_id=user_id, occurred_at_ms=now, aggregate_version=version))

    def _handle_append(self, handle: str, state: HandleState,
                       payload: ev.HandleClaimed | ev.HandleReleased, now: int) -> Append:
        version = state.version + 1
        return Append(self._topics.handles, self._partition(handle), wrap(
            payload, event_id=event_id_for(handle, "handle", version), source=SOCIAL,
            aggregate_id=handle, occurred_at_ms=now, aggregate_version=version))

    async def _commit(self, user_id: str, state: AccountState, payload: Message, now: int,
                      handle_events: list[tuple[str, ev.HandleClaimed | ev.HandleReleased]]
                      ) -> AccountState:
        """Append the account's event (and handle events) in one transaction, then fold."""
        appends = [self._identity_append(user_id, state, payload, now)]
        handle_states: dict[str, HandleState] = {}
        for name, hpayload in handle_events:
            hstore = self._stores.store(self._partition(name))
            hstate = hstore.handle(name) or HandleState()
            appends.append(self._handle_append(name, hstate, hpayload, now))
            fold_handle(hstate, hpayload)
            hstate.version += 1
            handle_states[name] = hstate
        await self._log.append(appends)
        acc.fold(state, payload)
        state.version += 1
        self._stores.store(self._partition(user_id)).write({user_id: state}, {})
        for name, hstate in handle_states.items():
            self._stores.store(self._partition(name)).write({}, {name: hstate})
        return state

    async def open_identity(self, user_id: str, handle: str,
                            profile: ProfileFields) -> rpc.Identity:
        """Open a creator identity (KYC-verified accounts only) claiming ``handle``."""
        check_user_id(user_id)
        check_handle(handle)
        async with self._write:
            now = self._clock_ms()
            state = self.account(user_id)
            payload = acc.open_identity(state, user_id, handle, profile, now)
            self._claimable(handle, user_id, now)
            state = await self._commit(user_id, state, payload, now, [
                (handle, ev.HandleClaimed(handle=handle, user_id=user_id, at_ms=now))])
        return acc.identity_pb(user_id, state)

    def _claimable(self, handle: str, user_id: str, now: int) -> None:
        check_claimable(self._stores.store(self._partition(handle)).handle(handle), handle,
                        user_id, now)

    async def change_handle(self, user_id: str, handle: str) -> rpc.Identity:
        """Take a new handle; the old one stays reserved for this account for a while."""
        check_handle(handle)
        async with self._write:
            now = self._clock_ms()
            state = self.account(user_id)
            payload = acc.change_handle(state, user_id, handle, now, self._reservation_ms)
            self._claimable(handle, user_id, now)
            state = await self._commit(user_id, state, payload, now, [
                (handle, ev.HandleClaimed(handle=handle, user_id=user_id, at_ms=now)),
                (payload.old_handle, ev.HandleReleased(
                    handle=payload.old_handle, user_id=user_id,
                    reserved_until_ms=payload.old_reserved_until_ms, at_ms=now))])
        return acc.identity_pb(user_id, state)

    async def update_profile(self, user_id: str, profile: ProfileFields) -> rpc.Identity:
        """Replace the public profile."""
        async with self._write:
            now = self._clock_ms()
            state = self.account(user_id)
            payload = acc.update_profile(state, user_id, profile, now)
            state = await self._commit(user_id, state, payload, now, [])
        return acc.identity_pb(user_id, state)

    async def moderate(self, action: str, user_id: str, reason: str,
                       operator: str) -> rpc.Identity:
        """suspend, reinstate or close an identity, as ``operator``, with a reason."""
        check_user_id(user_id)
        reason = check_reason(reason)
        async with self._write:
            now = self._clock_ms()
            state = self.account(user_id)
            handle_events: list[tuple[str, ev.HandleClaimed | ev.HandleReleased]] = []
            payload: Message
            if action == "suspend":
                payload = acc.suspend(state, user_id, reason, operator, now)
            elif action == "reinstate":
                payload = acc.reinstate(state, user_id, reason, operator, now)
            else:
                closed = acc.close(state, user_id, reason, operator, now, self._reservation_ms)
                handle_events.append((state.handle, ev.HandleReleased(
                    handle=state.handle, user_id=user_id,
                    reserved_until_ms=closed.handle_reserved_until_ms, at_ms=now)))
                payload = closed
            state = await self._commit(user_id, state, payload, now, handle_events)
        return acc.identity_pb(user_id, state)

    async def sanction(self, user_id: str, reason: str, until_ms: int,
                       operator: str) -> rpc.Sanction:
        """Sanction any account, as ``operator``."""
        check_user_id(user_id)
        reason = check_reason(reason)
        async with self._write:
            now = self._clock_ms()
            state = self.account(user_id)
            payload = acc.sanction(state, user_id, reason, until_ms, operator, now)
            state = await self._commit(user_id, state, payload, now, [])
        return self._sanction_pb(user_id, payload.sanction_id)

    async def lift(self, user_id: str, sanction_id: str, reason: str,
                   operator: str) -> rpc.Sanction:
        """Lift an active sanction, as ``operator``."""
        check_user_id(user_id)
        reason = check_reason(reason)
        async with self._write:
            now = self._clock_ms()
            state = self.account(user_id)
            payload = acc.lift(state, user_id, sanction_id, reason, operator, now)
            await self._commit(user_id, state, payload, now, [])
        return self._sanction_pb(user_id, sanction_id)

    async def appeal(self, user_id: str, sanction_id: str, text: str) -> rpc.Sanction:
        """The holder's one appeal of one sanction."""
        text = check_appeal(text)
        async with self._write:
            now = self._clock_ms()
            state = self.account(user_id)
            payload = acc.appeal(state, user_id, sanction_id, text, now)
            await self._commit(user_id, state, payload, now, [])
        return self._sanction_pb(user_id, sanction_id)

    async def set_track_record_visibility(self, user_id: str, hidden: bool) -> rpc.Identity:
        """The creator hides or shows their track record; a repeat appends nothing."""
        check_user_id(user_id)
        async with self._write:
            now = self._clock_ms()
            state = self.account(user_id)
            payload = acc.set_track_record_visibility(state, user_id, hidden, now)
            if payload is not None:
                state = await self._commit(user_id, state, payload, now, [])
        return acc.identity_pb(user_id, state)

    async def decide_appeal(self, user_id: str, sanction_id: str, grant: bool, reason: str,
                            operator: str) -> rpc.Sanction:
        """Grant (lifting the sanction from now) or deny an appeal, once, as ``operator``."""
        check_user_id(user_id)
        reason = check_reason(reason)
        async with self._write:
            now = self._clock_ms()
            state = self.account(user_id)
            payload = acc.decide_appeal(state, user_id, sanction_id, grant, reason, operator,
                                        now)
            await self._commit(user_id, state, payload, now, [])
        return self._sanction_pb(user_id, sanction_id)

    def _sanction_pb(self, user_id: str, sanction_id: str) -> rpc.Sanction:
        for s in self.sanctions(user_id):
            if s.sanction_id == sanction_id:
                return s
        raise NotFound(f"no sanction {sanction_id[:40]!r} on this account")


class Tail(Protocol):
    """A projection the service's loop feeds besides the account stores (the graph, the track
    records, the notifications): it keeps its own input offsets in its own store, in the
    same write as what it derives, so it says where to start and skips what it has."""

    @property
    def topic(self) -> str:
        """The one topic it reads."""

    def partitions(self) -> list[TopicPartition]:
        """The partitions of ``topic`` it reads (this instance owns them all)."""

    def offset(self, tp: TopicPartition, end: int) -> int:
        """Where to start reading ``tp`` (its store's next offset, never past ``end``)."""

    async def apply(self, tp: TopicPartition,
                    records: Sequence[ConsumerRecord[bytes, bytes]]) -> int:
        """Fold one fetched batch of ``tp`` (and its next offset) in; how many facts changed."""

    def close(self) -> None:
        """Flush and close its store."""


@dataclass(frozen=True)
class LoopConfig:
    """How the tail reads."""

    max_records: int = 5_000
    fetch_timeout_ms: int = 200
    shutdown_grace_s: float = 5.0


@dataclass
class LoopStats:
    """Counters for logs and tests."""

    records_read: int = 0
    changed: int = 0
    restore_s: float = 0.0
    restore_records: int = 0


class SocialService:
    """Serves gRPC and tails its three sources into the partition stores."""

    def __init__(self, config: LoopConfig, *, topics: Topics, server: grpc.aio.Server,
                 port: int, grpc_health: Health, consumer: AIOKafkaConsumer,
                 producer: AIOKafkaProducer, event_log: KafkaEventLog, stores: AccountStores,
                 handlers: SocialHandlers, temp_dir: Path | None = None,
                 timer: Callable[[], float] = time.monotonic,
                 tails: Sequence[Tail] = ()) -> None:
        self.config = config
        self.port = port
        self.stats = LoopStats()
        self.handlers = handlers
        self._topics = topics
        self._server = server
        self._grpc_health = grpc_health
        self._consumer = consumer
        self._producer = producer
        self._event_log = event_log
        self._stores = stores
        self._temp_dir = temp_dir
        self._timer = timer
        self._sources = {topics.identities: IDENTITIES, topics.handles: HANDLES,
                         topics.kyc: KYC}
        # Several tails may read one topic (the graph feeds the graph store and the
        # notifications), and tails may read an account store's topic (the notifications read
        # moderation facts from the identities topic): the consumer starts at the lowest of
        # their offsets; each tail skips what its own store has, the account store skips by
        # its own offset (and by version).
        self._tails: dict[str, list[Tail]] = {}
        for tail in tails:
            self._tails.setdefault(tail.topic, []).append(tail)

    def _tps(self) -> list[TopicPartition]:
        tps = [TopicPartition(t, p) for t in self._sources for p in range(self._topics.partitions)]
        tails = {tp for group in self._tails.values() for tail in group
                 for tp in tail.partitions()}
        return tps + sorted(tails - set(tps))

    async def _position(self, targets: dict[TopicPartition, int]) -> None:
        """Seek every partition to its store's offset (reset a store ahead of its topic)."""
        tail_starts: dict[TopicPartition, int] = {}
        for tp, end in targets.items():
            group = self._tails.get(tp.topic)
            if group is not None:
                tail_starts[tp] = min(tail.offset(tp, end) for tail in group)
                self._consumer.seek(tp, tail_starts[tp])
        targets = {tp: end for tp, end in targets.items() if tp.topic in self._sources}
        for tp, end in targets.items():
            store = self._stores.store(tp.partition)
            source = self._sources[tp.topic]
            if store.applied[source] > end:
                log.warning("account store ahead of its topic; rebuilding", extra={
                    "topic": tp.topic, "partition": tp.partition,
                    "applied": store.applied[source], "end": end})
                store.reset()
        for tp in targets:
            applied = self._stores.store(tp.partition).applied[self._sources[tp.topic]]
            self._consumer.seek(tp, min(applied, tail_starts.get(tp, applied)))

    async def _caught_up(self, targets: dict[TopicPartition, int]) -> bool:
        # Positions, not stored offsets: a transaction's commit marker takes an offset no
        # record has, and the consumer's position moves past it.
        for tp, end in targets.items():
            if await self._consumer.position(tp) < end:
                return False
        return True

    async def run(self, lifecycle: Lifecycle) -> None:
        """Restore, serve, tail; stop when ``lifecycle.stopping`` is set (or fenced)."""
        await self._grpc_health.servicer.set(LIVENESS, health_pb2.HealthCheckResponse.SERVING)
        started = self._timer()
        try:
            # Fences any previous instance (and aborts its open transaction) before reading.
            await self._producer.start()
            await self._consumer.start()
            tps = self._tps()
            self._consumer.assign(tps)
            targets = await self._consumer.end_offsets(tps)
            await self._position(targets)
            await self._server.start()
            restoring = True
            while not lifecycle.stopping.is_set() and not self._event_log.fenced.is_set():
                fetched = await self._consumer.getmany(
                    timeout_ms=self.config.fetch_timeout_ms, max_records=self.config.max_records)
                for tp, records in fetched.items():
                    group = self._tails.get(tp.topic)
                    if group is not None:
                        for tail in group:
                            self.stats.changed += await tail.apply(tp, records)
                    source = self._sources.get(tp.topic)
                    if source is not None:
                        store = self._stores.store(tp.partition)
                        # Behind the store when a tail started lower: the store has those.
                        fresh = [r for r in records if r.offset >= store.applied[source]]
                        self.stats.changed += store.apply(source, fresh)
                    self.stats.records_read += len(records)
                if restoring and await self._caught_up(targets):
                    restoring = False
                    self.stats.restore_s = self._timer() - started
                    self.stats.restore_records = self.stats.records_read
                    self.handlers.serving = True
                    await self._grpc_health.set_serving(True)
                    await lifecycle.ready()
                    log.info("serving", extra={"restore_s": round(self.stats.restore_s, 3),
                                               "records_read": self.stats.records_read})
            if self._event_log.fenced.is_set():
                raise RuntimeError("fenced by another social instance")
        finally:
            self.handlers.serving = False
            await self._grpc_health.set_serving(False)
            await self._grpc_health.shutting_down()
            await self._server.stop(self.config.shutdown_grace_s)
            await self._consumer.stop()
            await self._producer.stop()
            self._stores.close()
            for group in self._tails.values():
                for tail in group:
                    tail.close()
            if self._temp_dir is not None:
                shutil.rmtree(self._temp_dir, ignore_errors=True)
