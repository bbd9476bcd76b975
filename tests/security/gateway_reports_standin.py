"""The security tests' stand-in for content's ReportService (gateway/ports.ReportsPort): it
answers every shape the gateway sends, so the fuzzer exercises the routes, not a 503."""

from __future__ import annotations

from typing import Protocol

from gateway.auth import Principal
from gateway.errors import NotFound
from planet.content.v1 import reports_pb2 as rp

_POST = "post_" + "0" * 24


class _Calls(Protocol):
    names: list[str]


def _item(item_id: str, author: str) -> rp.ItemModeration:
    return rp.ItemModeration(item_id=item_id, kind=rp.MODERATED_KIND_POST, post_id=_POST,
                             author_id=author, open_reports=1,
                             reasons=[rp.ReasonCount(reason=rp.POLICY_REASON_SPAM, reports=1)],
                             first_reported_at_ms=1, last_reported_at_ms=1)


class Reports:
    """Reports are accepted, one item is in each queue, decisions answer the item."""

    def __init__(self, calls: _Calls) -> None:
        self.calls = calls

    async def report(self, caller: Principal, request: rp.ReportItemRequest
                     ) -> rp.ReportItemResponse:
        self.calls.names.append("report")
        return rp.ReportItemResponse(report_id="rpt_" + "0" * 24, item_id=request.item_id,
                                     reason=request.reason, reported_at_ms=1, created=True)

    async def queue(self, caller: Principal, request: rp.ListQueueRequest
                    ) -> rp.ListQueueResponse:
        self.calls.names.append("queue")
        return rp.ListQueueResponse(items=[_item(_POST, "alice")])

    async def decide_reports(self, caller: Principal, request: rp.DecideReportsRequest
                             ) -> rp.ItemModeration:
        self.calls.names.append("decide_reports")
        state = _item(request.item_id, "alice")
        if request.confirm:
            state.removed_at_ms = 2
        return state

    async def appeal(self, caller: Principal, request: rp.AppealRemovalRequest
                     ) -> rp.ItemModeration:
        self.calls.names.append("appeal")
        state = _item(request.item_id, caller.user_id)
        state.appeal = rp.APPEAL_STATE_PENDING
        return state

    async def decide_appeal(self, caller: Principal, request: rp.DecideAppealRequest
                            ) -> rp.ItemModeration:
        self.calls.names.append("decide_appeal")
        return _item(request.item_id, "alice")

    async def get(self, caller: Principal, item_id: str) -> rp.ItemModeration:
        if item_id != _POST:
            raise NotFound("no moderation of this item you may see")
        return _item(item_id, "alice")
