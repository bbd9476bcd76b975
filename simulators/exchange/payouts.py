"""The simulated exchange's payout desk: answers PAYOUT_INSTRUCTIONS on PAYOUTS.

``python -m simulators.exchange payouts`` (devstack: ``python -m simulators.exchange.payouts``)
runs it as a Planet process (planetkit.runner: health, readiness, SIGTERM). The decisions
are simulators/exchange/payout_decisions.py; this module is the Kafka around them:

- One active instance: the transactional id is fixed, so a new instance fences the old one
  (which then fails and exits) and aborts its open transaction before anything is read.
- The exchange's memory of what it paid is the PAYOUTS topic itself, read back whole
  (read_committed) at start, after the fencing: nothing else has to survive a restart.
- Instructions are read by a consumer group (read_committed); each fetch's answers and the
  instructions' offsets are committed in ONE transaction, so an instruction is answered
  exactly once per time it appears in the log. A failed transaction ends the process (the
  in-memory ledger may be ahead of the log); the restart rebuilds it from the log.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata
from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from planet.exchange.v2.payouts_pb2 import PayoutConfirmed, PayoutInstructed, PayoutRefused
from planetkit.clock import now_ms
from planetkit.envelope import UndecodableEvent, decode, encode, wrap
from planetkit.kafka.admin import TopicContractError, require_topics, wait_for_broker
from planetkit.kafka.producer import WriterBoundProducer, make_producer
from planetkit.runner import Lifecycle, RunSettings, run_service
from planetkit.service_identities import EXCHANGE
from planetkit.settings import KafkaSettings, TopicSettings, load_settings
from planetkit.topics import PAYOUT_INSTRUCTIONS, PAYOUTS, Topic, with_suffix
from simulators.exchange.payout_decisions import PPM, PayoutLedger, PayoutPolicy, Reply

NAME = "exchange-payouts"
log = logging.getLogger(__name__)


class PayoutSettings(RunSettings):
    """How the payout desk behaves (env prefix PLANET_EXCHANGE_PAYOUTS_)."""

    model_config = SettingsConfigDict(env_prefix="PLANET_EXCHANGE_PAYOUTS_", extra="ignore")

    health_port: int = Field(default=50063, ge=0, le=65535)
    group_id: str = "exchange-payouts"
    # Comma-separated creator ids whose payouts are refused.
    refused_creators: str = ""
    # Every Nth new payout is answered twice (0 = never).
    duplicate_every: int = Field(default=0, ge=0)
    # This share of payouts (0..1, chosen by a hash of the payout id) is answered twice.
    duplicate_probability: str = "0"
    max_records: int = Field(default=500, ge=1)
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    topics: TopicSettings = Field(default_factory=TopicSettings)

    @field_validator("duplicate_probability")
    @classmethod
    def _probability(cls, raw: str) -> str:
        probability_ppm(raw)
        return raw

    def group(self) -> str:
        """The consumer group (and transactional id), suffixed like the topics."""
        suffix = self.topics.topic_suffix
        return f"{self.group_id}-{suffix}" if suffix else self.group_id

    def policy(self) -> PayoutPolicy:
        """The decisions' policy."""
        refused = frozenset(c.strip() for c in self.refused_creators.split(",") if c.strip())
        return PayoutPolicy(refused_creators=refused, duplicate_every=self.duplicate_every,
                            duplicate_ppm=probability_ppm(self.duplicate_probability))


def probability_ppm(raw: str) -> int:
    """A probability written as a decimal (``"0.25"``) in parts per million, exactly."""
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise ValueError(f"not a decimal probability: {raw!r}") from None
    if not value.is_finite() or not 0 <= value <= 1:
        raise ValueError(f"a probability is within 0..1, not {raw!r}")
    return int(value * PPM)


async def read_ledger(bootstrap: str, payouts: Topic) -> PayoutLedger:
    """Every answer the exchange has published, replayed in log order (read_committed)."""
    ledger = PayoutLedger()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                enable_auto_commit=False, isolation_level="read_committed")
    await consumer.start()
    try:
        # The registered count (require_topics checked the broker agrees).
        tps = [TopicPartition(payouts.name, p) for p in range(payouts.partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        # Under read_committed these are the last stable offsets: every committed answer.
        ends = await consumer.end_offsets(tps)
        pending = {tp for tp in tps if ends[tp] > 0}
        while pending:
            for records in (await consumer.getmany(*pending, timeout_ms=500)).values():
                for record in records:
                    try:
                        event = decode(record.value, PayoutConfirmed, PayoutRefused)
                    except UndecodableEvent as exc:
                        log.warning("unreadable answer on the payouts topic, skipped",
                                    extra={"offset": record.offset, "reason": str(exc)})
                        continue
                    answer = event.payload
                    if isinstance(answer, PayoutConfirmed | PayoutRefused):
                        ledger.replay(answer)
            for tp in list(pending):
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
    finally:
        await consumer.stop()
    return ledger


class PayoutDesk:
    """Reads instructions, answers them, commits answers and offsets together."""

    def __init__(self, settings: PayoutSettings, clock: Callable[[], int] = now_ms) -> None:
        suffix = settings.topics.topic_suffix
        self.instructions: Topic = with_suffix(PAYOUT_INSTRUCTIONS, suffix)
        self.payouts: Topic = with_suffix(PAYOUTS, suffix)
        self._settings = settings
        self._policy = settings.policy()
        self._clock = clock
        self._bootstrap = settings.kafka.bootstrap_servers
        self._group = settings.group()

    async def run(self, lifecycle: Lifecycle) -> None:
        """Fence, rebuild the ledger, then answer until asked to stop."""
        await wait_for_broker(self._bootstrap)
        try:
            await require_topics(self._bootstrap, [self.instructions, self.payouts])
        except TopicContractError as exc:
            raise SystemExit(f"{NAME}: {exc}") from None
        producer = make_producer(self._bootstrap, writer=EXCHANGE, linger_ms=0,
                                 transactional_id=f"{self._group}-{self.payouts.name}")
        await producer.start()  # fences a previous instance before the ledger is read
        consumer = AIOKafkaConsumer(
            self.instructions.name, bootstrap_servers=self._bootstrap, group_id=self._group,
            enable_auto_commit=False, auto_offset_reset="earliest",
            isolation_level="read_committed", max_poll_records=self._settings.max_records)
        try:
            ledger = await read_ledger(self._bootstrap, self.payouts)
            log.info("payout ledger restored", extra={"payouts": len(ledger.first)})
            await consumer.start()
            while not lifecycle.stopping.is_set():
                fetched = await consumer.getmany(timeout_ms=300)
                if not lifecycle.is_ready and consumer.assignment():
                    await lifecycle.ready()
                if fetched:
                    await self._answer(producer, ledger, fetched)
        finally:
            await consumer.stop()
            await producer.stop()

    async def _answer(self, producer: WriterBoundProducer, ledger: PayoutLedger,
                      fetched: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]
                      ) -> None:
        replies: list[Reply] = []
        offsets: dict[TopicPartition, OffsetAndMetadata] = {}
        for tp, records in fetched.items():
            for record in records:
                replies.extend(self._decide(ledger, record))
            offsets[tp] = OffsetAndMetadata(records[-1].offset + 1, "")
        async with producer.transaction():
            for reply in replies:
                answer = reply.answer
                key = answer.creator_id or answer.payout_id
                envelope = wrap(answer, event_id=reply.event_id, source=EXCHANGE,
                                aggregate_id=key, occurred_at_ms=answer.at_ms)
                await producer.send(self.payouts.name, encode(envelope), key=key.encode())
            await producer.send_offsets_to_transaction(offsets, self._group)

    def _decide(self, ledger: PayoutLedger,
                record: ConsumerRecord[bytes, bytes]) -> list[Reply]:
        try:
            instruction = decode(record.value, PayoutInstructed).payload
        except UndecodableEvent as exc:
            # The exchange cannot answer what it cannot read; the instruction stays in the
            # log for an operator, and the reason is logged here.
            log.warning("unreadable payout instruction, not answered",
                        extra={"offset": record.offset, "reason": str(exc)})
            return []
        decision = ledger.decide(instruction, self._policy, self._clock())
        level = logging.WARNING if decision.outcome in ("conflict", "unanswerable") else (
            logging.INFO)
        log.log(level, "payout instruction answered",
                extra={"payout_id": instruction.payout_id, "outcome": decision.outcome,
                       "answers": len(decision.replies), "detail": decision.detail})
        return list(decision.replies)


def serve(settings: PayoutSettings) -> None:
    """Run the payout desk as a Planet process until SIGTERM; exits."""

    async def build() -> PayoutDesk:
        return PayoutDesk(settings)

    run_service(NAME, build, settings)


def main() -> None:
    """``python -m simulators.exchange.payouts``: settings from the environment only."""
    serve(load_settings(PayoutSettings))


if __name__ == "__main__":
    main()
