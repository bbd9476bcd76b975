"""The gate for analyst SQL, decided on the engine's own parse of the statement.

No lexer of ours reads the analyst's text: a text guard and ClickHouse once disagreed about
where a string ended, and ``INTO OUTFILE`` ran. Instead the engine parses it twice, neither
time executing it:

1. ``SELECT formatQuerySingleLine({q:String})`` with the text bound as a *value* (it cannot
   become SQL) returns the engine's canonical spelling, or a syntax error; a second statement
   is a syntax error there ("Multi-statements are not allowed").
2. ``EXPLAIN AST <canonical>`` dumps the parse tree, which is walked below against an
   allow-list of node kinds, table names (by audience) and functions (``sql_functions``).

The canonical text is what runs: what was checked is what the engine executes.

The dump prints identifiers unescaped, so a quoted identifier holding a newline can forge
lines. Every node line carries the engine's own ``(children N)`` count, and the tree is
rebuilt only if every count matches; forged lines can add nodes but cannot hide or move a real
one without breaking a real count, so every real node is still checked, and a forged node
can only cause a refusal.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from services.analytics.domain import sql_functions

ANALYST_DATABASE = "planet"
OPERATOR_DATABASE = "planet_ops"


class Audience(enum.Enum):
    """Who a query runs for; each sees its own set of databases."""

    ANALYST = "analyst"
    OPERATOR = "operator"

    @property
    def databases(self) -> frozenset[str]:
        """The databases this audience may read."""
        if self is Audience.OPERATOR:
            return frozenset({ANALYST_DATABASE, OPERATOR_DATABASE})
        return frozenset({ANALYST_DATABASE})


# The database the engine resolves an unqualified table name in: every reader session runs
# with it as its current database, and every audience may read it.
CURRENT_DATABASE = ANALYST_DATABASE


class SqlParser(Protocol):
    """The engine-side parse: canonical text, then the AST dump of that text."""

    def canonical(self, sql: str) -> str:
        """The engine's single-line spelling of ``sql``; ValueError if it does not parse."""
        ...

    def ast_dump(self, canonical: str, params: Mapping[str, object]) -> str:
        """``EXPLAIN AST`` of the canonical text; ValueError if the engine refuses it."""
        ...


@dataclass
class Node:
    """One node of the engine's AST dump."""

    kind: str
    text: str
    children: list[Node] = field(default_factory=list)

    def walk(self) -> Iterator[tuple[Node, Node | None]]:
        """Every node with its parent, depth first."""
        stack: list[tuple[Node, Node | None]] = [(self, None)]
        while stack:
            node, parent = stack.pop()
            yield node, parent
            stack.extend((child, node) for child in reversed(node.children))


_LINE = re.compile(r"(?P<indent> *)(?P<kind>[A-Za-z_][A-Za-z_:]*)(?P<text>(?: .*?)??)"
                   r"(?: \(children (?P<count>\d+)\))?")
# Node texts: a name, then the engine's " (alias ...)" if it has one. These read the engine's
# dump (a format it generates), not SQL; anything else is refused, never guessed at.
_TABLE_TEXT = re.compile(
    r"(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)(?: \(alias .*\))?"
)
_FUNCTION_TEXT = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?: \(alias .*\))?")

_UNVERIFIABLE = "the query uses a name the guard cannot read unambiguously (quoted identifiers " \
    "with control characters are not allowed)"


def parse_dump(dump: str) -> Node:
    """The tree of an ``EXPLAIN AST`` dump, with every ``(children N)`` count verified."""
    lines = [line for line in dump.split("\n") if line != ""]
    parsed: list[tuple[int, Node, int]] = []
    for line in lines:
        match = _LINE.fullmatch(line)
        if match is None:
            raise ValueError(_UNVERIFIABLE)
        depth = len(match["indent"])
        count = int(match["count"] or 0)
        parsed.append((depth, Node(match["kind"], match["text"][1:]), count))
    if not parsed or parsed[0][0] != 0:
        raise ValueError(_UNVERIFIABLE)
    position = 0

    def build(depth: int) -> Node:
        nonlocal position
        line_depth, node, count = parsed[position]
        if line_depth != depth:
            raise ValueError(_UNVERIFIABLE)
        position += 1
        for _ in range(count):
            if position >= len(parsed):
                raise ValueError(_UNVERIFIABLE)
            node.children.append(build(depth + 1))
        return node

    root = build(0)
    if position != len(parsed):
        raise ValueError(_UNVERIFIABLE)
    return root


# Node kinds a read-only SELECT is made of. Anything else (Set = a SETTINGS clause, the
# APPLY transformer, whose function the dump does not show, EXPLAIN, SHOW, DDL...) is refused.
_ALLOWED_KINDS = frozenset({
    "SelectWithUnionQuery", "SelectIntersectExceptQuery", "SelectQuery", "ExpressionList",
    "Literal", "Identifier", "Function", "Asterisk", "QualifiedAsterisk",
    "ColumnsRegexpMatcher", "ColumnsListMatcher", "QualifiedColumnsRegexpMatcher",
    "QualifiedColumnsListMatcher", "ColumnsTransformerList", "ColumnsExceptTransformer",
    "ColumnsReplaceTransformer", "ColumnsReplaceTransformer::Replacement",
    "TablesInSelectQuery", "TablesInSelectQueryElement", "TableExpression", "TableIdentifier",
    "TableJoin", "ArrayJoin", "Subquery", "WithElement", "OrderByElement", "WindowDefinition",
    "WindowListElement", "SampleRatio", "InterpolateElement", "DescribeQuery",
})
SETTINGS_REFUSAL = "SETTINGS clauses are not allowed: the service sets the query's limits"
_KIND_REASONS = {
    "Set": SETTINGS_REFUSAL,
    "ColumnsApplyTransformer": "APPLY is not allowed: call the function on the columns instead",
}
# Functions whose second argument may name a table: x IN db.table.
_IN_FUNCTIONS = frozenset({
    "in", "notIn", "globalIn", "globalNotIn", "nullIn", "notNullIn", "globalNullIn",
    "globalNotNullIn",
})


def _table_name(text: str, audience: Audience) -> None:
    match = _TABLE_TEXT.fullmatch(text)
    if match is None:
        raise ValueError(f"table names must be plain db.table identifiers, got {text!r}")
    name = match["name"]
    parts = name.split(".")
    database = parts[0] if len(parts) == 2 else CURRENT_DATABASE
    if database not in audience.databases:
        allowed = ", ".join(sorted(audience.databases))
        raise ValueError(
            f"{audience.value} queries may read only the databases {allowed}; "
            f"{name!r} is in {database!r}"
        )


def _function_name(text: str) -> str:
    match = _FUNCTION_TEXT.fullmatch(text)
    if match is None:
        raise ValueError(_UNVERIFIABLE)
    return match["name"]


def _check_node(node: Node, parent: Node | None, audience: Audience) -> None:
    if node.kind not in _ALLOWED_KINDS:
        raise ValueError(_KIND_REASONS.get(node.kind, f"{node.kind} is not allowed in a query"))
    if node.kind in ("SelectWithUnionQuery", "DescribeQuery") and len(node.children) != 1:
        # A select's extra children are INTO OUTFILE's file name and the FORMAT clause.
        raise ValueError(
            "INTO OUTFILE and FORMAT clauses are not allowed: results come back as rows"
        )
    if node.kind == "TableIdentifier":
        _table_name(node.text, audience)
    elif node.kind == "Function":
        name = _function_name(node.text)
        table_context = parent is not None and parent.kind == "TableExpression"
        reason = (sql_functions.table_function_refusal(name) if table_context
                  else sql_functions.scalar_refusal(name))
        if reason is not None:
            kind = "table function" if table_context else "function"
            raise ValueError(f"{kind} {name} is not allowed: {reason}")
        if name in _IN_FUNCTIONS and node.children and len(node.children[0].children) == 2:
            right = node.children[0].children[1]
            if right.kind == "Identifier":
                _table_name(right.text, audience)


def check_tree(root: Node, audience: Audience) -> None:
    """ValueError unless the tree is one SELECT (or DESCRIBE) the audience may run."""
    if root.kind not in ("SelectWithUnionQuery", "DescribeQuery"):
        raise ValueError(
            f"only SELECT, WITH ... SELECT and DESCRIBE queries are allowed, got {root.kind}"
        )
    for node, parent in root.walk():
        _check_node(node, parent, audience)


def guard(
    sql: str,
    audience: Audience,
    parser: SqlParser,
    params: Mapping[str, object] | None = None,
) -> str:
    """The engine's canonical text of ``sql`` if the audience may run it; else ValueError."""
    if not sql.strip():
        raise ValueError("empty query")
    canonical = parser.canonical(sql)
    check_tree(parse_dump(parser.ast_dump(canonical, params or {})), audience)
    return canonical
