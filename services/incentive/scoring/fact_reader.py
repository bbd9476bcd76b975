"""One fact topic of a week read and folded in a child process, while the parent reads another.

A week's reading is Python-bound (decode a record, fold its columns) and was sequential on one
core: the view facts, then the interaction facts. ``fold_in_child`` starts a child process
that reads one topic into its own ``WeekInputs`` and sends back its ``FoldedFacts`` (numpy
columns + its first-seen id strings, pickled through the executor's pipe); the parent merges
them after its own rows (``WeekInputs.merge``), so the model's input is the one the sequential
fold builds, byte for byte.

The child is *spawned* (a fresh interpreter): the parent runs an asyncio loop with Kafka
clients and threads, which a fork would copy mid-flight. Spawning costs about a second of
imports, so small weeks stay sequential (``fact_log.load_week``'s ``child_from_records``).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import pickle
import resource
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

from services.incentive.domain.facts import IsoWeek
from services.incentive.domain.id_map import IdCollision, IdKind
from services.incentive.scoring.week_inputs import FoldedFacts, WeekInputs


class ChildFailed(RuntimeError):
    """The child's error, when it could not be sent back as itself."""


@dataclass(frozen=True)
class _Failed:
    """(From the child.) Its error: as itself when it pickles, else as plain values."""

    error: Exception | None = None
    collision: tuple[str, int, str, str] | None = None
    text: str = ""


def _fold_topic(bootstrap: str, topic: str, week: str,
                end: Sequence[int] | None) -> FoldedFacts | _Failed:
    """(In the child.) The topic's facts of the week folded, or the error as plain values."""
    # Imported here: fact_log imports this module (load_week starts the child).
    from services.incentive.scoring.fact_log import feed_facts

    inputs = WeekInputs(IsoWeek.parse(week))
    try:
        asyncio.run(feed_facts(bootstrap, topic, inputs, end))
    except Exception as e:  # sent back to the parent, which raises it
        return _failed(e)
    folded = inputs.folded()
    return replace(folded, peak_kib=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _failed(error: Exception) -> _Failed:
    """An error of the child as something the pipe carries and the parent can raise again."""
    if isinstance(error, IdCollision):
        # Its __init__ takes four values: unpickling it from its message alone would fail.
        return _Failed(collision=(error.kind.value, error.value, error.first, error.second))
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:  # an error that does not survive pickling: its type and text
        return _Failed(text=f"{type(error).__name__}: {error}")
    return _Failed(error=error)


async def fold_in_child(bootstrap: str, topic: str, week: IsoWeek,
                        end: Sequence[int] | None) -> FoldedFacts:
    """``topic``'s facts of ``week`` up to ``end`` (feed_facts' range), read and folded by a
    spawned child process; awaiting it leaves the loop free (the parent reads meanwhile)."""
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(max_workers=1,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        got = await loop.run_in_executor(pool, _fold_topic, bootstrap, topic, str(week),
                                         None if end is None else list(end))
    return _outcome(got, topic)


def _outcome(got: FoldedFacts | _Failed, topic: str) -> FoldedFacts:
    """The child's folded facts, or its error raised here."""
    if isinstance(got, FoldedFacts):
        return got
    if got.collision is not None:
        kind, value, first, second = got.collision
        raise IdCollision(IdKind(kind), value, first, second)
    if got.error is not None:
        raise got.error
    raise ChildFailed(f"reading {topic} in a child process: {got.text}")
