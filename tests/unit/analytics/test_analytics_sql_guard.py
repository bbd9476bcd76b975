"""The read-only gate for analyst SQL (pure: no engine)."""

from __future__ import annotations

import pytest

from planetkit.analytics.sql_guard import ensure_read_only, tokenize


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1", "SELECT 1"),
        ("  select 1 ;; ", "  select 1"),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "WITH x AS (SELECT 1) SELECT * FROM x"),
        ("(SELECT 1) UNION ALL (SELECT 2)", "(SELECT 1) UNION ALL (SELECT 2)"),
        ("SHOW TABLES FROM planet", "SHOW TABLES FROM planet"),
        ("DESCRIBE TABLE planet.events_raw", "DESCRIBE TABLE planet.events_raw"),
        ("desc planet.events_raw -- trailing comment", "desc planet.events_raw"),
        ("-- leading\n/* block */ SELECT 1", "-- leading\n/* block */ SELECT 1"),
        ("SELECT 'a;b', \"c;d\", `e;f`, $$g;h$$", "SELECT 'a;b', \"c;d\", `e;f`, $$g;h$$"),
        ("SELECT 'it''s', 'it\\'s; DROP'", "SELECT 'it''s', 'it\\'s; DROP'"),
        ("SELECT format('{}', 1), x AS format", "SELECT format('{}', 1), x AS format"),
        ("SELECT format FROM t", "SELECT format FROM t"),
        ("SELECT {since:DateTime64(3, 'UTC')}", "SELECT {since:DateTime64(3, 'UTC')}"),
    ],
)
def test_read_only_statements_pass(sql: str, expected: str) -> None:
    assert ensure_read_only(sql) == expected


@pytest.mark.parametrize(
    ("sql", "reason"),
    [
        ("", "empty"),
        ("  ;  -- nothing", "empty"),
        ("INSERT INTO t VALUES (1)", "read-only"),
        ("drop table t", "read-only"),
        ("EXPLAIN SELECT 1", "read-only"),
        ("SELECT 1; DROP TABLE t", "one statement"),
        ("SELECT 1; SELECT 2", "one statement"),
        ("SELECT 1 # comment hides nothing\n; DROP TABLE t", "one statement"),
        ("SELECT 1 /* nested /* comment */ still */; DROP TABLE t", "one statement"),
        ("/* SELECT */ DELETE FROM t WHERE 1", "read-only"),
        ("'SELECT' DROP", "read-only"),
        ("SELECT 'unterminated", "unterminated"),
        ("SELECT 1 /* unterminated", "unterminated"),
        ("SELECT $x$ unterminated", "unterminated"),
        ("SELECT 1 INTO OUTFILE 'x.csv'", "OUTFILE"),
        ("SELECT 1 into  outfile 'x.csv'", "OUTFILE"),
        ("SELECT 1 FORMAT CSV", "FORMAT"),
        ("SELECT 1 FORMAT JSON SETTINGS max_threads = 1", "FORMAT"),
    ],
)
def test_everything_else_is_a_value_error(sql: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        ensure_read_only(sql)


def test_comments_and_literals_are_single_tokens() -> None:
    tokens = tokenize("SELECT /* a /* b */ c */ 'x;y' -- z\n, `q`")
    assert [(t.kind, t.text) for t in tokens] == [
        ("word", "SELECT"),
        ("quoted", "'x;y'"),
        ("punct", ","),
        ("quoted", "`q`"),
    ]
