"""Command line: ``python -m simulators.exchange kyc|fee|fill|random|instruments|payouts ...``.

``payouts`` is the long-running one: the exchange's payout desk (simulators/exchange/payouts.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from typing import NoReturn

from planetkit.kafka.admin import TopicContractError, require_topics
from planetkit.kafka.producer import make_producer
from planetkit.service_identities import EXCHANGE
from planetkit.settings import KafkaSettings, TopicSettings
from simulators.exchange import payouts
from simulators.exchange.facts import (
    DEFAULT_QUOTE_ASSET,
    ExchangeTopics,
    publish_fee,
    publish_fill,
    publish_kyc,
    publish_random,
)
from simulators.exchange.instruments import (
    InstrumentSpec,
    default_specs,
    instruments_topic,
    make_instrument,
    publish_instruments,
)


class _Parser(argparse.ArgumentParser):
    """Bad arguments end the process with one line, not a usage screen."""

    def error(self, message: str) -> NoReturn:
        print(f"simulators.exchange: {message}", file=sys.stderr)
        raise SystemExit(2)


def _positive_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {raw!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive: {raw!r}")
    return value


def _count(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {raw!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {raw!r}")
    return value


def parser() -> argparse.ArgumentParser:
    """The command-line grammar."""
    p = _Parser(prog="python -m simulators.exchange",
                description="Publish exchange facts to Planet's Kafka topics.")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    kyc = sub.add_parser("kyc", help="a user passed KYC")
    kyc.add_argument("--user", required=True)
    fee = sub.add_parser("fee", help="a trade fee was charged")
    fee.add_argument("--user", required=True)
    fee.add_argument("--amount-minor", type=_positive_int, required=True,
                     help="integer minor units, e.g. USDT cents")
    fee.add_argument("--currency", default="USDT", help="the asset the fee was charged in")
    fee.add_argument("--quote-value-minor", type=_count,
                     help="the fee's value in the quote asset, as the exchange reports it "
                          "(required unless the fee is in the quote asset, where it is the fee)")
    fee.add_argument("--quote-asset", default=DEFAULT_QUOTE_ASSET,
                     help="the pool's quote asset (default %(default)s)")
    fee.add_argument("--fee-id")
    fill = sub.add_parser("fill", help="an order was filled")
    fill.add_argument("--user", required=True)
    fill.add_argument("--pair", default="BTC/USDT")
    fill.add_argument("--side", choices=("buy", "sell"), required=True)
    fill.add_argument("--price", required=True, help="decimal string")
    fill.add_argument("--quantity", required=True, help="decimal string")
    fill.add_argument("--fee-minor", type=_count, default=0)
    fill.add_argument("--fee-asset", help="the asset the fee was charged in (default: the quote)")
    fill.add_argument("--fee-quote-value-minor", type=_count,
                      help="the fee's value in the quote asset (needed for a third asset)")
    fill.add_argument("--fill-id")
    rnd = sub.add_parser("random", help="KYC for N users, then M random fees")
    rnd.add_argument("--users", type=_positive_int, required=True)
    rnd.add_argument("--fees", type=_count, required=True)
    rnd.add_argument("--fills", type=_count, default=0)
    rnd.add_argument("--seed", type=int, default=0)
    rnd.add_argument("--currency", default=DEFAULT_QUOTE_ASSET,
                     help="fees are charged in this asset, the quote asset of the run")
    inst = sub.add_parser("instruments", help="list instruments (default: the demo list)")
    inst.add_argument("--symbol", help="one instrument, BASE/QUOTE (default: the demo list)")
    inst.add_argument("--last-price", default="", help="decimal string (with --symbol)")
    inst.add_argument("--status", choices=("trading", "halted", "delisted"), default="trading")
    pay = sub.add_parser("payouts", help="answer payout instructions until stopped (SIGTERM)")
    pay.add_argument("--refuse-creator", action="append", default=[], metavar="CREATOR_ID",
                     help="refuse this creator's payouts (repeatable)")
    pay.add_argument("--duplicate-every", type=_count,
                     help="answer every Nth new payout twice (0 = never)")
    pay.add_argument("--duplicate-probability",
                     help="answer this share (0..1) of payouts twice, chosen by payout id")
    return p


def _payouts(args: argparse.Namespace) -> None:
    """The flags are the desk's settings (PLANET_EXCHANGE_PAYOUTS_*), which they override."""
    prefix = "PLANET_EXCHANGE_PAYOUTS_"
    if args.refuse_creator:
        os.environ[f"{prefix}REFUSED_CREATORS"] = ",".join(args.refuse_creator)
    if args.duplicate_every is not None:
        os.environ[f"{prefix}DUPLICATE_EVERY"] = str(args.duplicate_every)
    if args.duplicate_probability is not None:
        os.environ[f"{prefix}DUPLICATE_PROBABILITY"] = args.duplicate_probability
    payouts.main()


async def _instruments(args: argparse.Namespace, bootstrap: str, suffix: str) -> str:
    topic = instruments_topic(suffix)
    specs = ([InstrumentSpec(args.symbol, args.last_price, args.status)] if args.symbol
             else default_specs())
    for spec in specs:
        make_instrument(spec)  # bad input is refused before Kafka is asked anything
    await require_topics(bootstrap, [topic])
    producer = make_producer(bootstrap, writer=EXCHANGE)
    await producer.start()
    try:
        facts = await publish_instruments(producer, topic, specs)
    finally:
        await producer.stop()
    return f"{len(facts)} instruments ({', '.join(f.symbol for f in facts)}) -> {topic.name}"


async def _run(args: argparse.Namespace) -> str:
    bootstrap = KafkaSettings().bootstrap_servers
    if args.command == "instruments":
        return await _instruments(args, bootstrap, TopicSettings().topic_suffix)
    topics = ExchangeTopics.with_suffix(TopicSettings().topic_suffix)
    await require_topics(bootstrap, topics.all())
    producer = make_producer(bootstrap, writer=EXCHANGE)
    await producer.start()
    try:
        if args.command == "kyc":
            kyc = await publish_kyc(producer, topics, args.user)
            return f"kyc {kyc.user_id} -> {topics.kyc.name}"
        if args.command == "fee":
            fee = await publish_fee(producer, topics, args.user, args.amount_minor,
                                    args.currency, fee_id=args.fee_id,
                                    quote_value_minor=args.quote_value_minor,
                                    quote_asset=args.quote_asset)
            return (f"fee {fee.fee_id} {fee.fee.amount_minor} {fee.fee.asset} (quote value "
                    f"{fee.quote_value.amount_minor} {fee.quote_value.asset})"
                    f" -> {topics.fees.name}")
        if args.command == "fill":
            fill = await publish_fill(producer, topics, args.user, args.pair, args.side,
                                      args.price, args.quantity, args.fee_minor,
                                      fill_id=args.fill_id, fee_asset=args.fee_asset,
                                      fee_quote_value_minor=args.fee_quote_value_minor)
            return (f"fill {fill.fill_id} {fill.quantity} {fill.base_asset} at {fill.price}, "
                    f"value {fill.quote_value.amount_minor} {fill.quote_asset}, fee "
                    f"{fill.fee.amount_minor} {fill.fee.asset} -> {topics.fills.name}")
        run = await publish_random(producer, topics, users=args.users, fees=args.fees,
                                   fills=args.fills, seed=args.seed, currency=args.currency)
        return (f"{len(run.users)} users, {run.fees} fees ({run.fee_total.amount_minor} "
                f"{run.fee_total.asset} minor units), {run.fills} fills")
    finally:
        await producer.stop()


def main(argv: list[str] | None = None) -> int:
    """Parse, publish, print one line; exit 2 on bad input."""
    args = parser().parse_args(argv)
    if args.command == "payouts":
        _payouts(args)  # runs until stopped, then exits with the runner's code
        return 0
    try:
        print(asyncio.run(_run(args)))
    except ValueError as exc:
        print(f"simulators.exchange: {exc}", file=sys.stderr)
        return 2
    except TopicContractError as exc:
        print(f"simulators.exchange: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
