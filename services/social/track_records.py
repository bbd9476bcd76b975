"""The verified track record served: the fills tail that keeps it, and its reads and visibility.

The tail reads ``planet.exchange.fills.v1`` (keyed by user id; v1 and v2 payloads, both read
through ``planetkit.upcasters.decode_fill``) into the track-record store. Per fetched batch of
one partition: one multi-get of the batch's traders' states, the library's fold
(``domain/track_record``) fill by fill, then one write batch with every changed state, the
partition's next offset and its skipped count. Nothing is written per record. A crash before
the write re-reads the batch over the old states; after it, the offset moved with them; and a
fill read twice is ignored by the fold (at or before the last fill of its pair), so a crash
anywhere changes no figure and a lost store rebuilds the same figures from the topic.

A record that is not a fill (bad bytes, a wrong type, a fill that fails its checks) is logged
with its reason and skipped; the partition's count of skipped records is kept in the store
with its offset (``TrackRecordStore.skipped``, summed by ``TrackRecordTail.skipped_total``)
and the record stays in the exchange's log. Nothing here writes to the fills topic: the
exchange is its single writer.

The figures are computed on read, at the service's clock, from the stored state: windows are
UTC days up to today, so they move with the date even when no fill arrives.

Visibility is the creator's one say: ``SetTrackRecordVisibility`` appends
``TrackRecordVisibilitySet`` to the identities topic (``SocialHandlers``), folded into
``AccountState.track_record_hidden``. A hidden record is NOT_FOUND to everyone but its owner
and operators. Which accounts have a readable record: a creator's (an identity that is not
closed); the owner and operators read any account's own record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord

from planet.social.v1 import social_service_pb2 as rpc
from planetkit.envelope import UndecodableEvent
from planetkit.upcasters import decode_fill
from services.social.adapters.track_record_store import TrackRecordStore
from services.social.domain import account as acc
from services.social.domain.errors import NotFound, NotServing
from services.social.domain.track_record import (
    DEFAULT_RULES,
    Fill,
    Rules,
    TrackRecord,
    TrackState,
    apply,
    figures,
    fill_of,
    new_state,
)
from services.social.domain.validation import check_user_id
from services.social.handlers import SocialHandlers

log = logging.getLogger(__name__)
HIDDEN = "no track record to show for this user"


def _source(tp: TopicPartition) -> str:
    return f"{tp.topic}/{tp.partition}"


def read_fill(record: ConsumerRecord[bytes, bytes]) -> Fill:
    """The track record's view of one fills record; UndecodableEvent with the reason."""
    event = decode_fill(record.value)
    try:
        return fill_of(event.payload)
    except ValueError as exc:
        raise UndecodableEvent(str(exc)) from None


class TrackRecordTail:
    """Folds the fills topic into the track-record store from the store's own offsets."""

    def __init__(self, store: TrackRecordStore, topic: str, partitions: int,
                 rules: Rules = DEFAULT_RULES) -> None:
        self.store = store
        self.topic = topic
        self._partitions = partitions
        self._rules = rules

    def close(self) -> None:
        """Flush and close the store."""
        self.store.close()

    def partitions(self) -> list[TopicPartition]:
        """Every partition of the fills topic (this instance owns them all)."""
        return [TopicPartition(self.topic, p) for p in range(self._partitions)]

    def offset(self, tp: TopicPartition, end: int) -> int:
        """Where to start reading ``tp``: the store's next offset (never past the end)."""
        applied = self.store.applied(_source(tp))
        if applied > end:
            # A topic recreated under a kept store: its states are not this topic's.
            log.warning("track-record store ahead of its topic", extra={
                "topic": tp.topic, "partition": tp.partition, "applied": applied, "end": end})
        return min(applied, end)

    def skipped_total(self) -> int:
        """Records skipped as undecodable, over every partition (as stored)."""
        return sum(self.store.skipped(_source(tp)) for tp in self.partitions())

    async def apply(self, tp: TopicPartition,
                    records: Sequence[ConsumerRecord[bytes, bytes]]) -> int:
        """Fold one fetched batch; how many fills were read (duplicates included)."""
        source = _source(tp)
        applied = self.store.applied(source)
        fresh = [r for r in records if r.offset >= applied]
        if not fresh:
            return 0
        skipped = self.store.skipped(source)
        fills: list[Fill] = []
        for record in fresh:
            try:
                fills.append(read_fill(record))
            except UndecodableEvent as exc:
                skipped += 1
                log.error("skipping an undecodable fill", extra={
                    "source": source, "offset": record.offset, "reason": str(exc)})
        states = self.store.states(dict.fromkeys(f.user_id for f in fills))
        try:
            for fill in fills:
                apply(states[fill.user_id], fill, self._rules)
            self.store.write(states, source=source, next_offset=fresh[-1].offset + 1,
                             skipped=skipped)
        except BaseException:
            # The fold changed cached states in place; what the store holds is the truth.
            self.store.forget(states)
            raise
        return len(fills)


class TrackRecords:
    """Reads of the track record and the creator's visibility switch."""

    def __init__(self, accounts: SocialHandlers, store: TrackRecordStore,
                 clock_ms: Callable[[], int], rules: Rules = DEFAULT_RULES) -> None:
        self._accounts = accounts
        self._store = store
        self._clock_ms = clock_ms
        self._rules = rules

    def _state(self, user_id: str) -> TrackState:
        if not self._accounts.serving:
            raise NotServing("the social service is restoring its state; retry")
        return self._store.state(user_id) or new_state(user_id)

    def hidden(self, user_id: str) -> bool:
        """Whether the creator hid their track record."""
        return self._accounts.account(user_id).track_record_hidden

    def record(self, user_id: str, viewer: str, privileged: bool) -> TrackRecord:
        """``user_id``'s figures now, for ``viewer`` (``privileged``: an operator).

        NotFound for others than the owner and operators when the account has no creator
        identity (or a closed one) or its creator hid the record.
        """
        check_user_id(user_id)
        state = self._accounts.account(user_id)
        if viewer != user_id and not privileged:
            if not acc.has_identity(state) or state.status == rpc.IDENTITY_STATUS_CLOSED:
                raise NotFound("no creator with this user id")
            if state.track_record_hidden:
                raise NotFound(HIDDEN)
        return figures(self._state(user_id), self._clock_ms(), self._rules)

    async def set_visibility(self, user_id: str, hidden: bool) -> rpc.Identity:
        """The creator hides or shows their record (the figures are never theirs to change)."""
        return await self._accounts.set_track_record_visibility(user_id, hidden)
