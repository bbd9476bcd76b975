"""The social servicer's track record RPCs (a mixin of grpc_server.SocialServicer), their part
of the method policy, and the library's figures as ``planet.social.v1.TrackRecord``.

Who may call: ``SetTrackRecordVisibility`` only through the gateway, for the creator the
call is made for; ``GetTrackRecord`` any trusted service (a record is public), with the end
user check here: a hidden record (or an account without an open creator identity) is
NOT_FOUND to everyone but its owner and operators.

On the wire the figures stay exact: money as integer minor units of the row's quote asset
(the library already rounded them half-even to that unit), ratios as the library's decimal
strings (6 places, half-even). No float is ever made.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Protocol

from planet.social.v1 import social_service_pb2 as rpc
from planet.social.v1 import track_record_pb2 as tr
from planetkit.service_auth import current_caller
from planetkit.service_auth_server import ANY_TRUSTED_CALLER, MethodPolicy, method_name
from planetkit.service_identities import GATEWAY
from services.social.adapters.grpc_common import SERVICE_NAME, Context, holder, is_operator
from services.social.adapters.grpc_common import run as _run_call
from services.social.domain.track_record import TrackRecord, WindowFigures

TRACK_RECORD_POLICY: MethodPolicy = {
    # The creator's switch goes through the gateway only, for the signed-in creator.
    method_name(SERVICE_NAME, "SetTrackRecordVisibility"): frozenset({GATEWAY}),
    # A record is public: any service may read it; who sees a hidden one is decided below.
    method_name(SERVICE_NAME, "GetTrackRecord"): frozenset({ANY_TRUSTED_CALLER}),
}


class TrackRecordUseCases(Protocol):
    """What the servicer calls (services.social.track_records.TrackRecords)."""

    def hidden(self, user_id: str) -> bool:
        """Whether the creator hid their record."""

    def record(self, user_id: str, viewer: str, privileged: bool) -> TrackRecord:
        """The figures now for ``viewer``; NotFound when hidden from them."""

    async def set_visibility(self, user_id: str, hidden: bool) -> rpc.Identity:
        """Hide or show the creator's record."""


def _ratio(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def _window_pb(w: WindowFigures) -> tr.TrackRecordWindow:
    p = w.provenance
    out = tr.TrackRecordWindow(
        window=w.window, from_ms=w.from_ms or 0, to_ms=w.to_ms, closed_trades=w.closed_trades,
        withheld=w.withheld or "", has_figures=w.withheld is None,
        provenance=tr.TrackRecordProvenance(
            fills=p.fills, last_fill_ms=max(p.last_fill_ms, 0), last_fill_id=p.last_fill_id,
            unmatched_sells=p.unmatched_sells, excluded=dict(p.excluded), text=p.text))
    if w.withheld is None:
        out.wins = w.wins or 0
        out.realised_pnl_minor = 0 if w.realised_pnl is None else w.realised_pnl.amount_minor
        out.roi = _ratio(w.roi)
        out.win_rate = _ratio(w.win_rate)
        out.max_drawdown_minor = 0 if w.max_drawdown is None else w.max_drawdown.amount_minor
        out.max_drawdown_ratio = _ratio(w.max_drawdown_ratio)
    return out


def track_record_pb(record: TrackRecord) -> tr.TrackRecord:
    """The library's figures as the API's message (exact: integers and decimal strings)."""
    return tr.TrackRecord(user_id=record.user_id, as_of_ms=record.as_of_ms, rows=[
        tr.QuoteTrackRecord(quote_asset=row.quote_asset, open_lots=row.open_lots,
                            windows=[_window_pb(w) for w in row.windows])
        for row in record.rows])


def fill_home_page(page: rpc.HomePage, records: TrackRecordUseCases) -> None:
    """Put the record on a home page for the current caller: hidden ones only for their
    owner and operators (``track_record_hidden`` tells everyone it is hidden)."""
    caller = current_caller()
    page.track_record_hidden = records.hidden(page.user_id)
    privileged = is_operator(caller)
    if not privileged and caller.user_id != page.user_id and (
            page.track_record_hidden or page.status == rpc.IDENTITY_STATUS_CLOSED):
        # A closed identity's page still says it is closed; its record is no longer public.
        return
    page.track_record.CopyFrom(track_record_pb(
        records.record(page.user_id, caller.user_id, privileged)))


class TrackRecordRpc:
    """Mixed into SocialServicer."""

    _tr: TrackRecordUseCases

    async def _run(self, context: Context, call: Any) -> Any:
        return await _run_call(context, call)

    async def SetTrackRecordVisibility(self, request: rpc.SetTrackRecordVisibilityRequest,
                                       context: Context) -> rpc.Identity:
        """The creator hides or shows their track record (never alters it)."""
        async def call() -> rpc.Identity:
            holder(current_caller(), request.user_id)
            return await self._tr.set_visibility(request.user_id, request.hidden)
        result: rpc.Identity = await self._run(context, call)
        return result

    async def GetTrackRecord(self, request: rpc.GetTrackRecordRequest,
                             context: Context) -> tr.TrackRecord:
        """A user's track record now (hidden: NOT_FOUND but for the owner and operators)."""
        async def call() -> tr.TrackRecord:
            caller = current_caller()
            return track_record_pb(self._tr.record(request.user_id, caller.user_id,
                                                   is_operator(caller)))
        result: tr.TrackRecord = await self._run(context, call)
        return result
