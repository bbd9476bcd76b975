"""Read-only SQL over the raw event store, for analysts."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from gateway.deps import BackendsDep, WriterDep
from gateway.errors import UpstreamUnavailable
from gateway.openapi import AUTHED, WITH_BODY, errors
from gateway.schemas import Strict

router = APIRouter(prefix="/v1/analytics", tags=["analytics"])

# Raw events name every consumer's activity, so only these roles may query them.
ANALYSTS = frozenset({"analyst", "operator"})
MAX_SQL_CHARS = 16 * 1024


class AnalyticsQuery(Strict):
    """One read-only ClickHouse SELECT (or WITH … SELECT)."""

    sql: str = Field(min_length=1, max_length=MAX_SQL_CHARS)


class AnalyticsResult(BaseModel):
    """Column names and rows (integers exact, times ISO-8601 UTC, decimals as text)."""

    columns: list[str]
    rows: list[list[object]]
    row_count: int
    truncated: bool


# Queries are expensive, so they count as writes against the per-user and per-IP limits.
@router.post("/query", response_model=AnalyticsResult,
             responses=errors(*AUTHED, *WITH_BODY, 400, 403))
async def query(body: AnalyticsQuery, user: WriterDep, backends: BackendsDep) -> AnalyticsResult:
    """Run one read-only statement over Planet's analytics tables."""
    if not user.roles & ANALYSTS:
        raise HTTPException(403, "only analysts (or operators) may query analytics")
    if backends.analytics is None:
        raise UpstreamUnavailable("analytics is not configured on this gateway")
    answer = await backends.analytics.query(user, body.sql)
    return AnalyticsResult(
        columns=answer.columns,
        rows=answer.rows,
        row_count=len(answer.rows),
        truncated=answer.truncated,
    )
