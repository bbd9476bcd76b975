"""Regenerate the committed function catalogue snapshot from the embedded engine.

``python -m services.analytics.adapters.function_catalogue`` asks chdb for
``system.functions`` and the aggregate combinators and overwrites
``services/analytics/domain/sql_functions.tsv``; review every added or changed line before
committing (domain/sql_functions.py says why the policy is an allow-list over that file).
Here, not in the domain: it runs the engine and writes a file.
"""

from __future__ import annotations

import csv
import json

from services.analytics.domain.sql_functions import CATALOG_QUERY, COMBINATORS_QUERY, SNAPSHOT

CatalogRow = tuple[str, str, str, int, int]


def write_snapshot(rows: list[CatalogRow], combinator_names: list[str]) -> None:
    """Overwrite the committed snapshot from the engine's catalogue (review the diff)."""
    with SNAPSHOT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        for name, category, alias_to, aggregate, insensitive in rows:
            writer.writerow(["function", name, category, alias_to, aggregate, insensitive])
        for name in combinator_names:
            writer.writerow(["combinator", name])


def engine_catalog() -> tuple[list[CatalogRow], list[str]]:
    """system.functions and the combinators of the chdb engine in this process."""
    from chdb import session as chdb_session

    with chdb_session.Session(":memory:") as engine:  # type: ignore[no-untyped-call]
        functions = [
            (str(r[0]), str(r[1]), str(r[2]), int(r[3]), int(r[4]))
            for r in json.loads(engine.query(CATALOG_QUERY, "JSONCompact").bytes())["data"]
        ]
        names = [str(r[0]) for r in
                 json.loads(engine.query(COMBINATORS_QUERY, "JSONCompact").bytes())["data"]]
    return functions, names


if __name__ == "__main__":
    write_snapshot(*engine_catalog())
    print(f"wrote {SNAPSHOT}: review every added or changed line before committing")
