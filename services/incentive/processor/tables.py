"""The Faust tables: str keys, bytes values (compact JSON from state.py), memory or rocksdb."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, cast

from planetkit.topics import ENGAGEMENT_DELTAS, POSTS

Table = MutableMapping[str, bytes]


@dataclass(frozen=True)
class ProcessorTables:
    """The tables, typed as the mappings the handlers and the read model use."""

    creator_weeks: Table
    posts: Table
    fees: Table
    kyc: Table
    applied_deltas: Table


def declare_tables(app: Any) -> ProcessorTables:
    """Declare the tables; their codec is the app-wide raw one (str keys, bytes values)."""
    if POSTS.partitions != ENGAGEMENT_DELTAS.partitions:
        raise ValueError("posts and engagement-deltas topics must have equal partition counts")

    def table(name: str, help_: str) -> Table:
        return cast(
            Table,
            app.Table(
                name,
                default=None,
                key_type=str,
                value_type=bytes,
                partitions=POSTS.partitions,
                help=help_,
            ),
        )

    return ProcessorTables(
        creator_weeks=table("creator-week", "creator|week → engagement totals and per consumer"),
        posts=table("creator-week-posts", "creator|week|posts partition → post count + ids"),
        fees=table("consumer-week-fees", "consumer|week → fee minor units + fee ids"),
        kyc=table("kyc", "user → verified"),
        applied_deltas=table("applied-deltas", "deltas partition → recent record event ids"),
    )
