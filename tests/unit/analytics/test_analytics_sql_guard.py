"""The analyst SQL gate's reading of the engine's AST dump (pure: dumps as the engine prints).

The engine-side parse itself (formatQuerySingleLine, EXPLAIN AST) is exercised on the real
engine in tests/security/test_analyst_sql*.py.
"""

from __future__ import annotations

import pytest

from services.analytics.domain.sql_guard import Audience, check_tree, parse_dump

SELECT_FROM = """SelectWithUnionQuery (children 1)
 ExpressionList (children 1)
  SelectQuery (children 2)
   ExpressionList (children 1)
    Asterisk
   TablesInSelectQuery (children 1)
    TablesInSelectQueryElement (children 1)
     TableExpression (children 1)
      {table}
"""


def test_counts_rebuild_the_tree() -> None:
    root = parse_dump(SELECT_FROM.format(table="TableIdentifier planet.t (alias x)"))
    assert [n.kind for n, _ in root.walk()][-1] == "TableIdentifier"
    check_tree(root, Audience.ANALYST)


@pytest.mark.parametrize(
    "dump",
    [
        # A quoted alias holding a newline forges a line: the counts no longer add up.
        "SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n"
        "  SelectQuery (children 1)\n   ExpressionList (children 1)\n"
        "    Literal UInt64_1 (alias a\n  Function x)\n",
        # A forged line claiming a child it does not have.
        "SelectWithUnionQuery (children 2)\n ExpressionList\n",
        "",
        " SelectWithUnionQuery",
        "SelectWithUnionQuery\nSelectWithUnionQuery\n",
    ],
)
def test_a_dump_whose_counts_do_not_add_up_is_refused(dump: str) -> None:
    with pytest.raises(ValueError, match="cannot read unambiguously"):
        parse_dump(dump)


@pytest.mark.parametrize(
    ("table", "audience", "allowed"),
    [
        ("TableIdentifier planet.events_raw", Audience.ANALYST, True),
        ("TableIdentifier events_raw", Audience.ANALYST, True),
        ("TableIdentifier planet_ops.events", Audience.ANALYST, False),
        ("TableIdentifier planet_ops.events", Audience.OPERATOR, True),
        ("TableIdentifier system.tables", Audience.OPERATOR, False),
        ("TableIdentifier plan.et.t", Audience.OPERATOR, False),
        ("TableIdentifier planet x.t", Audience.OPERATOR, False),
        ("Function numbers (children 1)\n       ExpressionList", Audience.ANALYST, True),
        ("Function file (children 1)\n       ExpressionList", Audience.OPERATOR, False),
        ("Function url (children 1)\n       ExpressionList", Audience.OPERATOR, False),
    ],
)
def test_tables_by_audience(table: str, audience: Audience, allowed: bool) -> None:
    root = parse_dump(SELECT_FROM.format(table=table))
    if allowed:
        check_tree(root, audience)
    else:
        with pytest.raises(ValueError, match=r"not allowed|may read only|plain"):
            check_tree(root, audience)


@pytest.mark.parametrize(
    ("dump", "reason"),
    [
        ("SelectWithUnionQuery (children 2)\n ExpressionList\n Literal '/tmp/x'\n", "OUTFILE"),
        ("SelectWithUnionQuery (children 2)\n ExpressionList\n Identifier CSV\n", "FORMAT"),
        ("SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n"
         "  SelectQuery (children 1)\n   Set\n", "SETTINGS"),
        ("ShowTables\n", "only SELECT"),
        ("InsertQuery (children 1)\n Identifier t\n", "only SELECT"),
        ("SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n"
         "  Function hostName (children 1)\n   ExpressionList\n", "names the host"),
        ("SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n"
         "  Function dictGetString (children 1)\n   ExpressionList\n", "dictionaries"),
        ("SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n"
         "  Function in (children 1)\n   ExpressionList (children 2)\n    Literal UInt64_1\n"
         "    Identifier system.users\n", "may read only"),
        ("SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n"
         "  Function brandNewFunction (children 1)\n   ExpressionList\n", "until reviewed"),
    ],
)
def test_refusals_name_the_reason(dump: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check_tree(parse_dump(dump), Audience.OPERATOR)


def test_aggregate_combinators_are_as_safe_as_their_base() -> None:
    dump = ("SelectWithUnionQuery (children 1)\n ExpressionList (children 1)\n"
            "  Function {name} (children 1)\n   ExpressionList\n")
    for name in ("sumIf", "uniqExactStateIf", "countOrNull", "quantilesMerge"):
        check_tree(parse_dump(dump.format(name=name)), Audience.ANALYST)
    with pytest.raises(ValueError, match="aggregate"):
        check_tree(parse_dump(dump.format(name="lowerIf")), Audience.ANALYST)
