"""Finding 1: analyst SQL that a text guard and the engine read differently.

The old guard lexed the text itself; where its idea of a string's end differed from
ClickHouse's, ``INTO OUTFILE ... TRUNCATE``, ``FORMAT`` and a second statement ran, writing
files as the engine's user. The guard now decides on the engine's own parse. Every case below
must be refused or run harmlessly, and never write a file.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from services.analytics.adapters.chdb_store import ChdbStore
from services.analytics.domain.store import QueryFailedError
from tests.security.analytics_store import module_store

store = module_store()

# {out} is a file the statement would write if INTO OUTFILE ran.
DISAGREEMENTS = [
    # The original class: a quote the lexer thought open, the engine closed (or the reverse).
    "SELECT 'a\\\\' INTO OUTFILE '{out}' TRUNCATE -- '",
    "SELECT 'a\\'' INTO OUTFILE '{out}' -- '",
    "SELECT 'it''s' INTO OUTFILE '{out}'",
    # Identifiers in double quotes and backticks that look like strings.
    'SELECT 1 AS "x\\"" INTO OUTFILE \'{out}\' -- "',
    "SELECT 1 AS `x\\`` INTO OUTFILE '{out}' -- `",
    "SELECT 1 AS `x``` INTO OUTFILE '{out}'",
    'SELECT "INTO OUTFILE" FROM (SELECT 1 AS "INTO OUTFILE") INTO OUTFILE \'{out}\'',
    # Heredocs, nested and unterminated dollar quotes.
    "SELECT $$ $$ INTO OUTFILE '{out}' -- $$",
    "SELECT $a$ $b$ $a$ INTO OUTFILE '{out}' -- $b$",
    "SELECT $a$b$ INTO OUTFILE '{out}'",
    "SELECT $$a$$$$ INTO OUTFILE '{out}'",
    # Comments: nested block comments, hash and dash comments, comment ends in strings.
    "SELECT 1 /* /* */ INTO OUTFILE '{out}' */",
    "SELECT 1 /* a */ INTO OUTFILE '{out}'",
    "SELECT 1 # x\nINTO OUTFILE '{out}'",
    "SELECT 1 -- x\rINTO OUTFILE '{out}'",
    "SELECT '*/' /* '*/ INTO OUTFILE '{out}'",
    # Unicode: separators, look-alike letters, BOM.
    "SELECT 1\u00a0INTO OUTFILE '{out}'",
    "SELECT 1 -- x\u2028INTO OUTFILE '{out}'",
    "\ufeffSELECT 1 INTO OUTFILE '{out}'",
    "SELECT 1 \uff29NTO OUTFILE '{out}'",
    # Plain clauses and statements.
    "SELECT 1 INTO OUTFILE '{out}' TRUNCATE",
    "SELECT 1 INTO OUTFILE '{out}' AND STDOUT",
    "SELECT 1 UNION ALL SELECT 2 INTO OUTFILE '{out}'",
    "WITH x AS (SELECT 1) SELECT * FROM x INTO OUTFILE '{out}' FORMAT CSV",
    "(SELECT 1) INTO OUTFILE '{out}'",
    "SELECT 1; SELECT 2 INTO OUTFILE '{out}'",
    "SELECT 1;; INSERT INTO FUNCTION file('{out}') SELECT 1",
    "INSERT INTO FUNCTION file('{out}', 'CSV') SELECT 1",
    "SELECT 1 FORMAT CSV",
    "SELECT format FROM (SELECT 1 AS format) FORMAT CSV",
    "SELECT 1 SETTINGS readonly = 0",
    "SELECT 1 SETTINGS max_execution_time = 0",
    "SELECT 1 SETTINGS output_format_pretty_max_rows = 1",
    "EXPLAIN AST SELECT 1 INTO OUTFILE '{out}'",
    "DESCRIBE (SELECT 1 INTO OUTFILE '{out}')",
    "SELECT * FROM file('{out}', 'CSV', 'a String')",
    "SELECT file('/etc/hostname')",
    "SELECT * APPLY(file) FROM (SELECT '/etc/hostname' AS p)",
]


@pytest.mark.parametrize("template", DISAGREEMENTS)
def test_no_text_trick_writes_a_file(store: ChdbStore, template: str, tmp_path: Path) -> None:
    out = tmp_path / "written.csv"
    # Where the engine reads the clause as a comment, the query runs and writes nothing.
    with contextlib.suppress(ValueError, QueryFailedError):
        store.query(template.format(out=out))
    assert not out.exists()


def test_truncate_never_touches_an_existing_file(store: ChdbStore, tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    with pytest.raises(ValueError, match="INTO OUTFILE"):
        store.query(f"SELECT 'x' INTO OUTFILE '{victim}' TRUNCATE")
    assert victim.read_text() == "precious"


def test_what_runs_is_the_engines_canonical_text(store: ChdbStore) -> None:
    # Comments and odd spacing are the engine's to read; the store runs its canonical text.
    assert store.check("select /* c */ 1 as `one` -- tail") == "SELECT 1 AS one"
    assert store.query("select /* ; */ 'a;b' -- ; DROP").rows == [("a;b",)]


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("SELECT 1 INTO OUTFILE 'x'", "INTO OUTFILE and FORMAT"),
        ("SELECT 1 FORMAT JSON", "INTO OUTFILE and FORMAT"),
        ("SELECT 1 SETTINGS max_threads = 1", "SETTINGS clauses are not allowed"),
        ("SELECT 1; SELECT 2", "Multi-statements are not allowed"),
        ("SHOW TABLES", "only SELECT"),
        ("SET readonly = 0", "only SELECT"),
        ("SELECT * FROM system.tables", "may read only the databases planet"),
        ("SELECT * FROM planet_ops.events_raw", "may read only the databases planet"),
        ("SELECT 1 IN information_schema.tables", "may read only the databases planet"),
        ("SELECT * FROM url('http://127.0.0.1:1/x', 'CSV')", "table function url"),
        ("SELECT dictGet('d', 'a', 1)", "function dictGet"),
        ("SELECT `a\n  Function x` FROM planet.events_raw", "cannot read unambiguously"),
        ("", "empty"),
    ],
)
def test_each_refusal_says_why(store: ChdbStore, sql: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        store.query(sql)


def test_analysts_still_have_real_sql(store: ChdbStore) -> None:
    result = store.query(
        "WITH t AS (SELECT number AS n FROM numbers(10))"
        " SELECT n % 2 AS odd, countIf(n > 2), uniqExact(n), quantile(0.5)(n),"
        " arrayMap(x -> x * 2, groupArray(n))[1], row_number() OVER (ORDER BY odd)"
        " FROM t GROUP BY odd ORDER BY odd"
    )
    assert [row[:3] for row in result.rows] == [(0, 3, 5), (1, 4, 5)]
    assert store.query("DESCRIBE TABLE planet.events_raw").rows
    assert store.query("SELECT count() FROM events_raw").rows == [(0,)]
