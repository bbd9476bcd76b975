"""Every table and scalar function the engine has, against the analyst policy.

Generated from the running engine's own catalogue (system.table_functions, system.functions),
so a new engine version's additions are caught: an unknown function is refused, and the
committed snapshot must match the engine until someone reviews the difference.
"""

from __future__ import annotations

import pytest

from services.analytics.adapters.chdb_store import ChdbStore
from services.analytics.domain import sql_functions
from tests.security.analytics_store import engine_rows, module_store

store = module_store()


def test_the_committed_snapshot_is_the_engines_catalogue(store: ChdbStore) -> None:
    engine = {(str(r[0]), str(r[1]), str(r[2]), int(str(r[3])), int(str(r[4])))
              for r in engine_rows(store, sql_functions.CATALOG_QUERY)}
    committed = {(e.name, e.category, e.alias_to, int(e.is_aggregate), int(e.case_insensitive))
                 for e in sql_functions.catalog().values()}
    added, removed = sorted(engine - committed), sorted(committed - engine)
    assert (added, removed) == ([], []), (
        "the engine's functions changed: review them, then run "
        "`python -m services.analytics.adapters.function_catalogue` and commit the snapshot"
    )
    combinators = [str(r[0]) for r in engine_rows(store, sql_functions.COMBINATORS_QUERY)]
    assert sorted(combinators) == sorted(sql_functions.combinators())


def test_every_table_function_but_the_number_generators_is_refused(store: ChdbStore) -> None:
    names = [str(r[0]) for r in engine_rows(store, "SELECT name FROM system.table_functions")]
    assert "file" in names and "url" in names and "python" in names
    # Some take a query as their argument (view, viewIfPermitted ...): try each shape.
    shapes = ("(1)", "(SELECT 1)", "(SELECT 1 ELSE null('a UInt8'))", "()")
    for name in names:
        if name in sql_functions.ALLOWED_TABLE_FUNCTIONS:
            assert store.check(f"SELECT * FROM {name}(1)")
            continue
        reasons = []
        for shape in shapes:
            with pytest.raises(ValueError) as refused:
                store.check(f"SELECT * FROM {name}{shape}")
            reasons.append(str(refused.value))
        assert any(f"table function {name} is not allowed" in r for r in reasons), reasons


def test_every_denied_scalar_function_is_refused(store: ChdbStore) -> None:
    rows = engine_rows(store, sql_functions.CATALOG_QUERY)
    denied = [str(r[0]) for r in rows if sql_functions.scalar_refusal(str(r[0])) is not None]
    # The ones the issue names, and whole categories (dictionaries, introspection, models).
    for name in ("file", "hostName", "FQDN", "fullHostName", "dictGet", "joinGet",
                 "getSetting", "uptime", "filesystemAvailable", "addressToSymbol",
                 "naiveBayesClassifier", "regionToName", "aiGenerate", "showCertificate",
                 "sleepEachRow"):
        assert name in denied, name
    for name in denied:
        with pytest.raises(ValueError):
            store.check(f"SELECT `{name}`(1)")


def test_no_allowed_scalar_touches_files_network_or_the_host(store: ChdbStore) -> None:
    # Any catalogue entry in a denied category, or named in the deny list, is refused even
    # when called through an alias (fullHostName is hostName's FQDN alias, etc.).
    for entry in sql_functions.catalog().values():
        target = sql_functions.catalog().get(entry.alias_to) or entry
        if target.name in sql_functions.ALLOWED_INTERNAL:
            continue
        risky = (target.category in sql_functions.DENIED_CATEGORIES
                 or target.name in sql_functions.DENIED_FUNCTIONS)
        assert (sql_functions.scalar_refusal(entry.name) is not None) == risky, entry.name


def test_a_function_the_snapshot_does_not_know_is_refused(store: ChdbStore) -> None:
    with pytest.raises(ValueError, match="until reviewed"):
        store.check("SELECT someFutureNetworkFunction('x')")
