"""The read-only gate for analyst SQL, applied before either backend sees a statement.

This gives a clear ValueError; the engine-side ``readonly=1`` setting is the enforcement
that still holds if this lexer and ClickHouse's ever disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ALLOWED_FIRST_KEYWORDS = frozenset({"SELECT", "WITH", "SHOW", "DESCRIBE", "DESC"})

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_HEREDOC_TAG = re.compile(r"\$([A-Za-z0-9_]*)\$")
# Words that may follow a column named `format`, where FORMAT is not the output clause.
_NOT_A_FORMAT_NAME = frozenset({"AS", "FROM"})


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "word", "quoted" (string, identifier or heredoc) or "punct"
    text: str
    start: int


def _skip_quoted(sql: str, i: int, quote: str) -> int:
    """Index just past the literal opened at i; ClickHouse allows both \\x and doubling."""
    n = len(sql)
    j = i + 1
    while j < n:
        ch = sql[j]
        if ch == "\\":
            j += 2
            continue
        if ch == quote:
            if j + 1 < n and sql[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    raise ValueError(f"unterminated {quote} literal starting at offset {i}")


def _skip_block_comment(sql: str, i: int) -> int:
    # ClickHouse nests block comments, so a naive search for */ would end one too early.
    depth = 0
    j = i
    n = len(sql)
    while j < n:
        if sql.startswith("/*", j):
            depth += 1
            j += 2
        elif sql.startswith("*/", j):
            depth -= 1
            j += 2
            if depth == 0:
                return j
        else:
            j += 1
    raise ValueError(f"unterminated /* comment starting at offset {i}")


def tokenize(sql: str) -> list[_Token]:
    """Words, literals and punctuation of ClickHouse SQL, with comments dropped."""
    tokens: list[_Token] = []
    i = 0
    n = len(sql)
    while i < n:
        ch = sql[i]
        if ch.isspace():
            i += 1
        elif sql.startswith("--", i) or ch == "#":
            newline = sql.find("\n", i)
            i = n if newline < 0 else newline + 1
        elif sql.startswith("/*", i):
            i = _skip_block_comment(sql, i)
        elif ch in "'\"`":
            end = _skip_quoted(sql, i, ch)
            tokens.append(_Token("quoted", sql[i:end], i))
            i = end
        elif ch == "$" and (tag := _HEREDOC_TAG.match(sql, i)):
            close = sql.find(tag.group(0), tag.end())
            if close < 0:
                raise ValueError(f"unterminated heredoc {tag.group(0)} at offset {i}")
            end = close + len(tag.group(0))
            tokens.append(_Token("quoted", sql[i:end], i))
            i = end
        elif word := _WORD.match(sql, i):
            tokens.append(_Token("word", word.group(0), i))
            i = word.end()
        else:
            tokens.append(_Token("punct", ch, i))
            i += 1
    return tokens


def _split_statements(tokens: list[_Token]) -> list[list[_Token]]:
    statements: list[list[_Token]] = [[]]
    for token in tokens:
        if token.kind == "punct" and token.text == ";":
            statements.append([])
        else:
            statements[-1].append(token)
    return [s for s in statements if s]


def _check_clauses(statement: list[_Token]) -> None:
    depth = 0
    for index, token in enumerate(statement):
        if token.kind == "punct":
            depth += {"(": 1, ")": -1}.get(token.text, 0)
            continue
        if token.kind != "word":
            continue
        upper = token.text.upper()
        following = statement[index + 1] if index + 1 < len(statement) else None
        if (
            upper == "INTO"
            and following is not None
            and following.kind == "word"
            and following.text.upper() == "OUTFILE"
        ):
            # The embedded engine writes the file even in readonly mode.
            raise ValueError("INTO OUTFILE is not allowed: query results come back as rows")
        if (
            upper == "FORMAT"
            and depth == 0
            and following is not None
            and following.kind in ("word", "quoted")
            and following.text.upper() not in _NOT_A_FORMAT_NAME
        ):
            raise ValueError(
                "a FORMAT clause is not allowed: the store returns typed rows "
                "(quote a column named format with backticks)"
            )


def ensure_read_only(sql: str) -> str:
    """The statement, trailing semicolons removed, if it is one read-only query; else ValueError."""
    statements = _split_statements(tokenize(sql))
    if not statements:
        raise ValueError("empty query")
    if len(statements) > 1:
        raise ValueError("only one statement per query is allowed")
    statement = statements[0]
    first = next((t for t in statement if not (t.kind == "punct" and t.text == "(")), None)
    keyword = first.text.upper() if first is not None and first.kind == "word" else ""
    if keyword not in ALLOWED_FIRST_KEYWORDS:
        shown = keyword or (first.text if first is not None else "")
        raise ValueError(
            f"only read-only queries are allowed (SELECT, WITH, SHOW, DESCRIBE), got {shown!r}"
        )
    _check_clauses(statement)
    last = statement[-1]
    return sql[: last.start + len(last.text)]
