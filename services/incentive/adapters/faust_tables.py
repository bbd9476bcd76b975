"""The Faust tables: str keys, bytes values (compact JSON from state.py), memory or rocksdb."""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any, cast

from planetkit.service_identities import INCENTIVE
from planetkit.topics import ENGAGEMENT_DELTAS, POSTS, Topic

Table = MutableMapping[str, bytes]


@dataclass(frozen=True)
class ProcessorTables:
    """The tables, typed as the mappings the handlers and the read model use."""

    creator_weeks: Table
    posts: Table
    fees: Table
    kyc: Table
    applied_deltas: Table


TABLE_NAMES: tuple[str, ...] = (
    "creator-week", "creator-week-posts", "consumer-week-fees", "kyc", "applied-deltas",
)


def changelog_topics(app_id: str) -> list[Topic]:
    """Faust's changelog topics for our tables, so they can exist before the worker starts.

    Left to Faust, they are created while the agents start; on a fresh broker the
    metadata may not list them yet, an agent then sees "0 partitions", crashes with
    PartitionsMismatch and is never restarted (seen in CI).
    """
    return [
        Topic(f"{app_id}-{name}-changelog", "table key", (), INCENTIVE,
              partitions=POSTS.partitions, compacted=True, enveloped=False)
        for name in TABLE_NAMES
    ]


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

    names = dict(zip(("weeks", "posts", "fees", "kyc", "applied"), TABLE_NAMES, strict=True))
    return ProcessorTables(
        creator_weeks=table(names["weeks"], "creator|week → engagement totals and per consumer"),
        posts=table(names["posts"], "creator|week|posts partition → post count + ids"),
        fees=table(names["fees"], "consumer|week → fee minor units + fee ids"),
        kyc=table(names["kyc"], "user → verified"),
        applied_deltas=table(names["applied"], "deltas partition → recent record event ids"),
    )
