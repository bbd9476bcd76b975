"""A creator's verified track record, and the creator's switch to hide or show it.

The social service computes the record from the exchange's fills and decides who sees a
hidden one; the gateway names the caller, checks shapes, rate-limits the switch and
publishes the definitions (below, in the OpenAPI description, and docs/track-record.md).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from gateway.deps import BackendsDep, UserDep, WriterDep
from gateway.errors import UpstreamUnavailable
from gateway.ids import MAX_USER_ID_LENGTH
from gateway.openapi import AUTHED, WITH_BODY, errors
from gateway.ports import Backends, SocialPort
from gateway.schemas_track_record import (
    TrackRecordOut,
    VisibilityBody,
    VisibilityOut,
    track_record_out,
)
from planet.social.v1 import social_service_pb2 as rpc

router = APIRouter(tags=["track record"])

UserId = Annotated[str, Path(min_length=1, max_length=MAX_USER_ID_LENGTH,
                             description="The trader's user id (from the exchange).")]

DEFINITIONS = """\
Computed by Planet from the exchange's fills (`planet.exchange.fills.v1`), never entered by
the creator: a creator may hide it, never alter it. Full definitions and a worked example
anyone can recompute by hand: `docs/track-record.md` in the Planet repository.

- **Fills counted**: the trader's own spot fills. Lots are matched per pair (base/quote). A
  sell beyond every open lot has no known cost: that part is no trade (`unmatched_sells`).
  A fill whose fee asset is unknown, whose third-asset fee the exchange did not value, or
  whose asset has no known minor unit is read but not counted, with the reason.
- **FIFO**: a sell closes the oldest open lots of its pair first; a split lot's cost goes
  pro rata to the closed part.
- **Fees** are included: in the quote asset they add to a buy's cost or come off a sell's
  proceeds; in the base asset they change the quantity held; in a third asset only at the
  exchange-reported value in the quote asset. Amounts of different assets are never added.
- **ROI** = realised PnL / cost basis of the closed quantity (the capital put at risk in the
  trades that closed; idle balances and open positions do not count).
- **Win**: a closed trade with PnL > 0 after fees (breakeven is no win). **Win rate** =
  wins / closed trades.
- **Max drawdown**: the largest fall of cumulative realised PnL from a running peak to a
  later trough (from 0 at the window's start, one step per closing instant), in the quote
  asset and as a ratio of the same cost basis as ROI.
- **Windows**: 7, 30 and 90 UTC days up to today inclusive, and all time; a trade belongs to
  the window of its closing fill.
- **Minimum**: fewer than 5 closed trades in a window: every figure is `null` and `withheld`
  says why.
- **Per quote asset**: one row each, never summed. Money is integer minor units of the
  row's quote asset (USDT: cents), ratios decimal strings to 6 places, rounded half-even
  once at the end; exact, no floats.
- **Provenance** per row: "computed from N fills up to T (last fill id F)", the fills not
  counted by reason, and the unmatched sells.
"""


def _social(backends: Backends) -> SocialPort:
    if backends.social is None:
        raise UpstreamUnavailable("the social service is not configured")
    return backends.social


@router.get("/v1/creators/{user_id}/track-record", response_model=TrackRecordOut,
            description=DEFINITIONS,
            responses=errors(*AUTHED, 404,
                             s404="No creator with that user id, or its creator hid the "
                                  "track record (its owner and operators still see it)."))
async def get_track_record(user_id: UserId, user: UserDep,
                           backends: BackendsDep) -> TrackRecordOut:
    """A trader's verified track record now: PnL, ROI, win rate and drawdown per window."""
    return track_record_out(await _social(backends).get_track_record(
        user, rpc.GetTrackRecordRequest(user_id=user_id)))


@router.put("/v1/creators/{user_id}/track-record/visibility", response_model=VisibilityOut,
            responses=errors(*AUTHED, *WITH_BODY, 403, 404,
                             s403="Only the creator sets their own track record's visibility, "
                                  "and only with an open identity.",
                             s404="The caller has no creator identity."))
async def set_visibility(user_id: UserId, body: VisibilityBody, user: WriterDep,
                         backends: BackendsDep) -> VisibilityOut:
    """Hide (`{"hidden": true}`) or show the caller's track record (idempotent)."""
    identity = await _social(backends).set_track_record_visibility(
        user, rpc.SetTrackRecordVisibilityRequest(user_id=user_id, hidden=body.hidden))
    return VisibilityOut(user_id=identity.user_id, hidden=body.hidden)
