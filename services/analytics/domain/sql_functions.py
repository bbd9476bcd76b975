"""Which ClickHouse functions an analyst query may call, decided from the engine's catalogue.

The policy is an allow-list: a function is callable only if it is in the committed snapshot of
``system.functions`` (``sql_functions.tsv``, beside this module) and neither its category nor
its name (nor the name it is an alias of) is denied below. A function the snapshot does not
know (a newer engine's addition) is refused until someone reviews it, regenerates the
snapshot (``python -m services.analytics.adapters.function_catalogue``) and commits both:
the security tests compare the snapshot with the running engine's catalogue, so a new
engine version fails them until then. This module only reads the snapshot (pure over it);
asking the engine is the adapter's business.

Why an allow-list over a deny-list: the catalogue has ~1 900 functions and grows every
release; a deny-list would let the next ``url``-like scalar through by default. The
categories and names denied are those that touch files, the network, processes, dictionaries,
other tables or databases, the host, the engine's configuration or identity, or call models.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

SNAPSHOT = Path(__file__).with_name("sql_functions.tsv")

DENIED_CATEGORIES: dict[str, str] = {
    "Dictionary": "reads dictionaries, which load from files, URLs or other tables",
    "Embedded Dictionary": "reads the host's region geobase files",
    "Introspection": "reads the engine's binary, threads and parts, or writes its log",
    "AI": "calls an external model provider over the network",
    "Machine Learning": "loads or evaluates models (files and large state)",
    "Internal": "engine-internal helpers, not meant to be called by users",
}

# Functions of an allowed category that reach outside the query's own data. Reviewed against
# the "Other" category of ClickHouse 26.9 (chdb 4.4) one by one.
DENIED_FUNCTIONS: dict[str, str] = {
    # Files and the host's file system.
    "file": "reads any file the engine process can read",
    "filesystemAvailable": "reads the host's file system",
    "filesystemCapacity": "reads the host's file system",
    "filesystemUnreserved": "reads the host's file system",
    # Other tables, databases and the engine's catalogue.
    "joinGet": "reads another (Join) table",
    "joinGetOrNull": "reads another (Join) table",
    "hasColumnInTable": "inspects any table's schema",
    "globalVariable": "reads engine state",
    "pgTableIsVisible": "inspects the catalogue",
    "pgGetUserById": "inspects users",
    "getMaxTableNameLengthForDatabase": "inspects databases",
    "generateSerialID": "writes to the coordination service",
    "transactionID": "engine transaction state",
    "transactionLatestSnapshot": "engine transaction state",
    "transactionOldestSnapshot": "engine transaction state",
    # The host, the process and its configuration.
    "hostName": "names the host",
    "FQDN": "names the host",
    "displayName": "names the server",
    "getOSKernelVersion": "describes the host",
    "uptime": "describes the server process",
    "buildId": "describes the server binary",
    "revision": "describes the server binary",
    "version": "describes the server binary",
    "serverUUID": "identifies the server",
    "getServerPort": "describes the server's listeners",
    "tcpPort": "describes the server's listeners",
    "getMacro": "reads server configuration",
    "getSetting": "reads settings (limits are the service's business)",
    "getSettingOrDefault": "reads settings",
    "getServerSetting": "reads server configuration",
    "getMergeTreeSetting": "reads server configuration",
    "showCertificate": "reads the server's TLS certificate",
    "zookeeperSessionUptime": "describes the coordination service",
    "getClientHTTPHeader": "reads the transport's headers",
    "currentRequestURL": "reads the transport's request",
    "currentHandler": "reads the transport's request",
    "shardNum": "describes the cluster",
    "shardCount": "describes the cluster",
    "hasThreadFuzzer": "describes the server build",
    # Identity and access (the audit log says who asked; the engine's user is not theirs).
    "currentUser": "engine identity",
    "authenticatedUser": "engine identity",
    "currentProfiles": "engine identity",
    "enabledProfiles": "engine identity",
    "defaultProfiles": "engine identity",
    "currentRoles": "engine identity",
    "enabledRoles": "engine identity",
    "defaultRoles": "engine identity",
    "connectionId": "engine session identity",
    "queryID": "engine query identity",
    "initialQueryID": "engine query identity",
    "currentQueryID": "engine query identity",
    # Holding engine threads without doing work.
    "sleep": "holds an engine thread",
    "sleepEachRow": "holds an engine thread",
}

# Internal helpers the parser itself writes into a query: bound parameters become _CAST, and
# CASE x WHEN ... becomes caseWithExpression.
ALLOWED_INTERNAL = frozenset({"_CAST", "caseWithExpression"})

# Names the parser produces that are not in system.functions.
PARSER_FUNCTIONS = frozenset({"lambda"})

# Table functions that only generate numbers: no file, network, process or other table.
ALLOWED_TABLE_FUNCTIONS = frozenset(
    {"numbers", "numbers_mt", "zeros", "zeros_mt", "generate_series", "generateSeries"}
)


@dataclass(frozen=True, slots=True)
class CatalogEntry:
    """One row of system.functions, as snapshotted."""

    name: str
    category: str
    alias_to: str
    is_aggregate: bool
    case_insensitive: bool


CATALOG_QUERY = (
    "SELECT name, categories, alias_to, is_aggregate, case_insensitive FROM system.functions"
    " ORDER BY name"
)
COMBINATORS_QUERY = "SELECT name FROM system.aggregate_function_combinators ORDER BY name"


@cache
def _snapshot() -> tuple[dict[str, CatalogEntry], tuple[str, ...]]:
    entries: dict[str, CatalogEntry] = {}
    combinators: list[str] = []
    with SNAPSHOT.open(encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle, delimiter="\t"):
            if row[0] == "combinator":
                combinators.append(row[1])
                continue
            _, name, category, alias_to, aggregate, insensitive = row
            entries[name] = CatalogEntry(name, category, alias_to, aggregate == "1",
                                         insensitive == "1")
    # Longest first, so "MergeState" is stripped before "State".
    return entries, tuple(sorted(combinators, key=len, reverse=True))


def catalog() -> dict[str, CatalogEntry]:
    """The committed snapshot of system.functions, by name."""
    return _snapshot()[0]


def combinators() -> tuple[str, ...]:
    """The committed snapshot of aggregate function combinators (If, State, ...)."""
    return _snapshot()[1]


def _lookup(name: str) -> CatalogEntry | None:
    entries = catalog()
    if name in entries:
        return entries[name]
    lower = name.lower()
    for entry in entries.values():
        if entry.case_insensitive and entry.name.lower() == lower:
            return entry
    return None


def _entry_refusal(entry: CatalogEntry) -> str | None:
    target = catalog().get(entry.alias_to) if entry.alias_to else None
    for candidate in (entry, target):
        if candidate is None:
            continue
        if candidate.name in ALLOWED_INTERNAL:
            continue
        if candidate.name in DENIED_FUNCTIONS:
            return DENIED_FUNCTIONS[candidate.name]
        if candidate.category in DENIED_CATEGORIES:
            return DENIED_CATEGORIES[candidate.category]
    return None


def scalar_refusal(name: str) -> str | None:
    """Why ``name`` may not be called in an analyst query, or None when it may."""
    if name in PARSER_FUNCTIONS:
        return None
    entry = _lookup(name)
    if entry is not None:
        return _entry_refusal(entry)
    # An aggregate with combinators (sumIf, uniqExactStateIf ...) is as safe as its base.
    base = name
    while True:
        suffix = next((c for c in combinators() if base.endswith(c) and len(base) > len(c)),
                      None)
        if suffix is None:
            return "not a function this service knows (new functions are refused until reviewed)"
        base = base[: -len(suffix)]
        entry = _lookup(base)
        if entry is not None:
            if not entry.is_aggregate:
                return "combinators apply to aggregate functions only"
            return _entry_refusal(entry)


def table_function_refusal(name: str) -> str | None:
    """Why table function ``name`` may not be used, or None for a pure number generator."""
    if name in ALLOWED_TABLE_FUNCTIONS:
        return None
    return "only the number generators numbers, zeros and generate_series are allowed"
