"""The creator center page in headless Chromium, served by a real ``python -m gateway``.

The gateway process is the deployed one (uvicorn, middleware, its Kafka topics); the
incentive service behind it is a stand-in gRPC server answering fixed creator center data
(the test examines the page and its route, not the read side, which has its own tests). The
browser loads ``/creator-center#token=...``, calls the API with the token, and the DOM must
show the exact figures (money formatted from integer minor units, even beyond 2^53) and one
SVG bar per post per week. A screenshot is kept under .local/test-artefacts/.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent import futures
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from gateway.auth import issue_token
from planet.incentive.v1 import incentive_service_pb2 as inc
from planet.incentive.v1 import incentive_service_pb2_grpc as inc_grpc
from planet.incentive.v1 import weekly_pool_pb2 as pool
from planetkit.kafka.admin import ensure_topics
from planetkit.topics import ENGAGEMENT_BATCHES, ESTIMATES, SOCIAL_NOTIFICATIONS, with_suffix
from tests.kafka.gateway.creator_center_browser import chromium, load, screenshot
from tests.security.gateway_process import SECRET, Gateway, gateway_process

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

CREATOR = "alice"
# 2^53 + 1 minor units: a float would print ...992 or ...994; the page must print ...993.
HUGE = 2**53 + 1


class CenterIncentive(inc_grpc.IncentiveServiceServicer):
    """Fixed creator center data: W46 and W47 settled, W48 running."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def GetCreatorCenter(self, request: inc.CreatorCenterRequest, context: Any
                         ) -> inc.CreatorCenter:
        self.calls.append(f"center:{request.creator_id}")
        return inc.CreatorCenter(
            creator_id=request.creator_id, asset="USDT",
            weeks=[
                inc.CreatorWeekStats(week="2026-W46", views=10, unique_viewers=4,
                                     dwell_seconds=59, effective_interaction_milli_points=500,
                                     followers_gained=0, estimated_minor=HUGE,
                                     settled_minor=HUGE, settled=True),
                inc.CreatorWeekStats(week="2026-W47", views=1_500, unique_viewers=950,
                                     dwell_seconds=4_000, effective_interaction_milli_points=14_750,
                                     followers_gained=12, estimated_minor=120_000,
                                     settled_minor=123_456, settled=True),
                inc.CreatorWeekStats(week="2026-W48", views=42, unique_viewers=17,
                                     dwell_seconds=125, effective_interaction_milli_points=2_005,
                                     followers_gained=3, estimated_minor=98_765),
            ],
            items=[
                inc.ItemWeekStats(item_id="post_w46", week="2026-W46", views=10,
                                  unique_viewers=4, dwell_seconds=59,
                                  effective_interaction_milli_points=500, estimated_minor=HUGE,
                                  settled_minor=HUGE),
                inc.ItemWeekStats(item_id="post_a", week="2026-W47", views=1_200,
                                  unique_viewers=800, dwell_seconds=3_723,
                                  effective_interaction_milli_points=12_345,
                                  estimated_minor=99_000, settled_minor=100_000),
                inc.ItemWeekStats(item_id="post_b", week="2026-W47", views=300,
                                  unique_viewers=150, dwell_seconds=277,
                                  effective_interaction_milli_points=2_405,
                                  estimated_minor=21_000, settled_minor=23_456),
                inc.ItemWeekStats(item_id="post_a", week="2026-W48", views=42,
                                  unique_viewers=17, dwell_seconds=125,
                                  effective_interaction_milli_points=2_005,
                                  estimated_minor=98_765),
            ])

    def GetCreatorEstimate(self, request: inc.CreatorWeekRequest, context: Any
                           ) -> pool.CreatorEstimate:
        self.calls.append(f"estimate:{request.creator_id}")
        return pool.CreatorEstimate(
            creator_id=request.creator_id, week="2026-W48", as_of_ms=1_795_000_000_000,
            estimated_minor=98_765, asset="USDT", score=2_005, pool_minor=10_000_000,
            policy_version="v1", policy_hash="ab" * 32,
            activity=pool.WeekActivity(views=42, unique_viewers=17, dwell_seconds=125,
                                       followers_gained=3))

    def ListCreatorWeeks(self, request: inc.ListCreatorWeeksRequest, context: Any
                         ) -> inc.CreatorWeeks:
        self.calls.append(f"weeks:{request.creator_id}")
        return inc.CreatorWeeks(weeks=[
            inc.CreatorWeekSummary(week="2026-W47", allocated_minor=123_456,
                                   payable_minor=123_456, asset="USDT", payout_state="paid"),
            inc.CreatorWeekSummary(week="2026-W46", allocated_minor=HUGE, payable_minor=HUGE,
                                   asset="USDT", payout_state="pending"),
        ])


@pytest.fixture
def incentive() -> Iterator[tuple[str, CenterIncentive]]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    servicer = CenterIncentive()
    inc_grpc.add_IncentiveServiceServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"127.0.0.1:{port}", servicer
    server.stop(None)


@pytest.fixture
def gateway(tmp_path: Path, kafka_bootstrap: str, topic_suffix: str,
            incentive: tuple[str, CenterIncentive]) -> Iterator[Gateway]:
    suffix = f".cc-{topic_suffix}"
    # The topics the gateway checks at start, made first as the topics tool would.
    asyncio.run(ensure_topics(kafka_bootstrap, [with_suffix(t, suffix) for t in
                                                (ENGAGEMENT_BATCHES, SOCIAL_NOTIFICATIONS,
                                                 ESTIMATES)]))
    with gateway_process(tmp_path, kafka_bootstrap, PLANET_TOPIC_SUFFIX=suffix,
                         PLANET_GATEWAY_INCENTIVE_ADDR=incentive[0]) as gw:
        yield gw


def test_the_page_is_static_public_cacheable_and_locked_down(gateway: Gateway) -> None:
    with httpx.Client(base_url=gateway.base, timeout=10) as http:
        page = http.get("/creator-center")
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert page.headers["cache-control"].startswith("public")
        assert "<script>" not in page.text and " style=" not in page.text  # nothing inline
        assert http.get("/creator-center", headers={"If-None-Match": page.headers["etag"]}
                        ).status_code == 304
        script = http.get("/creator-center/creator_center.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert http.get("/creator-center/creator_center.css").status_code == 200
        assert http.get("/creator-center/minor-units.json").json()["USDT"] == 2
        assert http.get("/creator-center/other.js").status_code == 404
        spec = http.get("/openapi.json").json()["paths"]
        assert "text/html" in spec["/creator-center"]["get"]["responses"]["200"]["content"]


def test_headless_chromium_shows_the_creator_center(
        gateway: Gateway, incentive: tuple[str, CenterIncentive], tmp_path: Path) -> None:
    binary = chromium()
    token = issue_token(SECRET, CREATOR, ["creator"], now_s=int(time.time()), ttl_s=600)
    url = f"{gateway.base}/creator-center#token={token}"
    page = load(binary, url, tmp_path / "profile-dom")
    dom = page.dom
    assert dom.body.get("data-state") == "ready", page.html[-3000:]
    assert dom.status == "Creator alice: 3 weeks, 3 posts, in USDT."

    # The running week's estimate, with its activity.
    assert dom.fields == {"estimated": "987.65 USDT", "pool": "100,000.00 USDT", "views": "42",
                          "unique_viewers": "17", "dwell": "2m 05s", "followers_gained": "3"}
    # Per week: settled amounts exact (even 2^53 + 1 minor units), payouts from /pool/weeks.
    assert dom.rows[("overview", "2026-W47")] == {
        "views": "1,500", "unique_viewers": "950", "dwell": "1h 06m 40s",
        "effective_interactions": "14.750", "followers_gained": "12",
        "estimated": "1,200.00 USDT", "settled": "1,234.56 USDT", "payout": "paid"}
    assert dom.rows[("overview", "2026-W46")]["settled"] == "90,071,992,547,409.93 USDT"
    assert dom.rows[("overview", "2026-W46")]["payout"] == "pending"
    assert dom.rows[("overview", "2026-W48")]["settled"] == "not settled"
    assert dom.rows[("overview", "2026-W48")]["payout"] == "running"
    # Per post and week.
    assert dom.rows[("2026-W47", "post_a")] == {
        "item": "post_a", "views": "1,200", "unique_viewers": "800", "dwell": "1h 02m 03s",
        "effective_interactions": "12.345", "estimated": "990.00 USDT",
        "settled": "1,000.00 USDT"}
    assert dom.rows[("2026-W47", "post_b")]["settled"] == "234.56 USDT"
    assert dom.rows[("2026-W48", "post_a")]["estimated"] == "987.65 USDT"
    # One bar per week in the overview, one per post in each week's chart, heights in
    # proportion to the exact amounts (post_b: 23,456 of 100,000 → 28 of 120 px).
    assert [b["data-key"] for b in dom.bars["overview"]] == ["2026-W46", "2026-W47", "2026-W48"]
    week47 = {b["data-key"]: b for b in dom.bars["2026-W47"]}
    assert set(week47) == {"post_a", "post_b"}
    assert week47["post_a"]["data-value"] == "100000" and week47["post_a"]["height"] == "120"
    assert week47["post_b"]["height"] == "28"
    assert [b["data-value"] for b in dom.bars["2026-W46"]] == [str(HUGE)]
    assert "estimated" in dom.bars["2026-W48"][0]["class"]

    screenshot(binary, url, tmp_path / "profile-shot", "creator-center.png")

    # The token went in the Authorization header only: never in a URL the gateway logged.
    log = gateway.log()
    assert '"GET /v1/creators/alice/center"' in log or "/v1/creators/alice/center" in log
    assert token not in log and token.rsplit(".", 1)[1] not in log
    assert {"center:alice", "estimate:alice", "weeks:alice"} <= set(incentive[1].calls)
