"""The weekly pool through the gateway, on a stack of its own (it closes the current week):
first view to settled payout, with the proof checked by the standalone verifier; a removed post
stops earning; the estimate equals the settlement when no more events arrive; late facts are
listed, not counted; the item ledger and the creator center show the week."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import SUITE_RATE_LIMITS, SUITE_SCORING
from system_helpers import become_creator, eventually, mint, unique
from test_system_end_to_end import estimate, exchange_facts, publish, views

from devstack.stack import Ports, Stack
from services.incentive.domain.facts import IsoWeek

pytestmark = [pytest.mark.system, pytest.mark.kafka, pytest.mark.slow]

VERIFIER = Path(__file__).resolve().parents[2] / "scripts" / "verify_payout_proof.py"
POOL_MINOR = 100_000  # 1 000.00 USDT


@pytest.fixture(scope="module")
def pool_stack(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A stack of this module's own: closing the current week early must not reach the
    suite's shared stack, whose tests keep estimating the current week."""
    s = Stack(bootstrap=kafka_bootstrap, run_dir=tmp_path_factory.mktemp("pool-stack"),
              ports=Ports.free(), topic_suffix=f"pool{uuid.uuid4().hex[:8]}",
              overrides={"gateway": SUITE_RATE_LIMITS, "gateway2": SUITE_RATE_LIMITS,
                         "scoring": SUITE_SCORING})
    try:
        s.up()
        yield s
    finally:
        s.down()


@pytest.fixture(scope="module")
def pool_api(pool_stack: Stack) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=pool_stack.gateway_url, timeout=15) as client:
        yield client


def _get(api: httpx.Client, path: str, who: dict[str, str], **params: Any) -> Any:
    resp = api.get(path, headers=who, params=params)
    assert resp.status_code == 200, f"{path}: {resp.status_code} {resp.text}"
    return resp.json()


def test_a_week_from_first_view_to_a_verified_paid_payout(
        pool_stack: Stack, pool_api: httpx.Client, tmp_path: Path) -> None:
    stack, api = pool_stack, pool_api
    week = str(IsoWeek.containing(int(time.time() * 1000)))
    ops = mint(api, unique("ops"), ["operator"])
    ada, bo = unique("ada"), unique("bo")
    c1, c2, c3 = (unique("consumer") for _ in range(3))
    for creator in (ada, bo):
        become_creator(stack, api, creator)
    # Consumers with KYC and trailing fees have value weight (policy v1).
    exchange_facts(stack, [c1, c2, c3],
                   [(c, 50_000, unique("fee")) for c in (c1, c2, c3)])
    pa = publish(stack, api, ada, "BTC weekly structure")
    pb = publish(stack, api, bo, "Funding rates explained")
    pb2 = publish(stack, api, bo, "A post that will be removed")

    # Engagement: views (client telemetry), a comment, a like and a follow (the services').
    views(api, c1, pa, [120, 60], ids=[f"{c1}-pa-0", f"{c1}-pa-1"])
    views(api, c2, pa, [300], ids=[f"{c2}-pa"])
    views(api, c1, pb, [200], ids=[f"{c1}-pb"])
    views(api, c3, pb2, [100], ids=[f"{c3}-pb2"])
    comment = api.post(f"/v1/posts/{pa}/comments", json={"text": "Clear levels, thanks! " * 3},
                       headers={**mint(api, c1), "Idempotency-Key": unique("cmt")})
    assert comment.status_code == 201, comment.text
    assert api.put(f"/v1/posts/{pa}/like", headers=mint(api, c2)).status_code == 200
    assert api.put(f"/v1/creators/{ada}/follow", headers=mint(api, c3)).status_code == 200

    # pb2 is reported and removed; views after the removal earn nothing.
    reported = api.post("/v1/reports", json={"item_id": pb2, "reason": "scam"},
                        headers={**mint(api, c1), "Idempotency-Key": unique("rep")})
    assert reported.status_code == 201, reported.text
    removed = api.post(f"/v1/operator/reports/{pb2}/decision",
                       json={"decision": "confirm", "reason": "a pump scheme"},
                       headers={**ops, "Idempotency-Key": unique("dec")})
    assert removed.status_code == 200 and removed.json()["removed"] is True, removed.text
    removed_at = _get(api, f"/v1/posts/{pb2}", ops)["removed_at_ms"]
    assert removed_at > 0
    # The telemetry helper stamps a view one second before it is sent: send this one once
    # that second lies after the removal, so the view is one made after it.
    while int(time.time() * 1000) - 1000 <= removed_at:
        time.sleep(0.05)
    views(api, c3, pb2, [400], ids=[f"{c3}-after-removal"])

    # The operator funds the week (idempotent by key).
    key = unique("fund")
    funding = {"week": week, "amount_minor": POOL_MINOR, "asset": "USDT"}
    first = api.post("/v1/operator/pool/fundings", json=funding,
                     headers={**ops, "Idempotency-Key": key})
    assert first.status_code == 201 and first.json()["applied"] is True, first.text
    again = api.post("/v1/operator/pool/fundings", json=funding,
                     headers={**ops, "Idempotency-Key": key})
    assert again.status_code == 201 and again.json()["applied"] is False, again.text
    assert api.post("/v1/operator/pool/fundings", json=funding,
                    headers={**mint(api, ada), "Idempotency-Key": unique("k")}).status_code == 403

    # The estimate reflects everything: every view (the removed post's too, discounted).
    est_bo = eventually(lambda: estimate(api, bo),
                        lambda e: e["pool_minor"] == POOL_MINOR and e["views"] == 3
                        and "item_removed" in {d["reason"] for d in e["breakdown"]["discounts"]},
                        timeout_s=90)
    def interacted(e: dict[str, Any]) -> bool:
        """The comment and like on pa and the follow (ada's home page) are counted."""
        points = {i["item_id"]: i["interaction_milli_points"] for i in e["breakdown"]["items"]}
        return points.get(pa, 0) > 0 and points.get(f"home:{ada}", 0) > 0

    eventually(lambda: estimate(api, ada),
               lambda e: e["pool_minor"] == POOL_MINOR and e["views"] == 3
               and e["estimated_minor"] > 0 and interacted(e), timeout_s=90)
    # Each estimate is rewritten only when it changes (an unchanged one keeps its as_of), so
    # the stored pair is the latest run's once no run is writing: read until two reads agree.
    reads = [(estimate(api, ada), estimate(api, bo))]

    def agree(pair: tuple[dict[str, Any], dict[str, Any]]) -> bool:
        reads.append(pair)
        return reads[-2] == pair

    est_ada, est_bo = eventually(lambda: (estimate(api, ada), estimate(api, bo)), agree)
    assert est_bo["estimated_minor"] > 0
    assert est_ada["estimated_minor"] + est_bo["estimated_minor"] <= POOL_MINOR
    # The creator's estimate is theirs: another creator may not read it.
    assert api.get(f"/v1/creators/{ada}/estimate", headers=mint(api, bo)).status_code == 403

    # No more events: close the week (the suite's policy allows an early close).
    closed = api.post(f"/v1/operator/pool/weeks/{week}/close", json={"reason": "system test"},
                      headers={**ops, "Idempotency-Key": unique("close")})
    assert closed.status_code == 200 and closed.json()["accepted"] is True, closed.text
    public = eventually(lambda: _get(api, "/v1/pool/weeks", mint(api, c1)),
                        lambda p: any(w["week"] == week for w in p["weeks"]), timeout_s=120)
    settled = next(w for w in public["weeks"] if w["week"] == week)
    assert settled["pool_minor"] == POOL_MINOR and settled["creators_paid"] >= 2
    assert settled["payable_minor"] + settled["rollover_out_minor"] + settled["held_minor"] \
        + settled["unallocated_minor"] == settled["pool_minor"] + settled["rollover_in_minor"]

    for creator, est in ((ada, est_ada), (bo, est_bo)):
        mine = mint(api, creator)
        result = _get(api, f"/v1/creators/{creator}/pool/weeks/{week}", mine)
        # The estimate, with no event after it, is the final result.
        assert result["allocated_minor"] == est["estimated_minor"], (creator, result, est)
        assert sum(i["amount_minor"] for i in result["breakdown"]["items"]) \
            == result["allocated_minor"]
        assert result["merkle_root"] == settled["merkle_root"]
        # The standalone verifier checks the amount against the published root.
        week_file, public_file = tmp_path / f"{creator}.json", tmp_path / "public.json"
        week_file.write_text(json.dumps(result))
        public_file.write_text(json.dumps(public))
        verified = subprocess.run([sys.executable, str(VERIFIER), str(week_file),
                                   str(public_file)], capture_output=True, text=True,
                                  check=False)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        # The exchange pays it (its simulator answers some payouts twice: paid once).
        def weeks_of(c: str = creator, m: dict[str, str] = mine) -> Any:
            return _get(api, f"/v1/creators/{c}/pool/weeks", m)

        paid = eventually(weeks_of, lambda p: any(w["week"] == week and w["payout_state"] == "paid"
                                                  for w in p["weeks"]), timeout_s=90)
        assert [w["week"] for w in paid["weeks"]].count(week) == 1
    bo_result = _get(api, f"/v1/creators/{bo}/pool/weeks/{week}", mint(api, bo))
    removal = [d for d in bo_result["breakdown"]["discounts"] if d["reason"] == "item_removed"]
    assert removal and removal[0]["item_id"] == pb2
    assert all(i["item_id"] != pb2 or i["amount_minor"] < bo_result["allocated_minor"]
               for i in bo_result["breakdown"]["items"])

    # A view of the closed week arriving now is late: listed for operators, counted nowhere.
    views(api, c2, pa, [500], ids=[f"{c2}-late"])
    late = eventually(lambda: _get(api, f"/v1/operator/pool/weeks/{week}/late", ops),
                      lambda p: any(e.endswith(f"/{c2}-late") for x in p["late"]
                                    for e in x["event_ids"]),
                      timeout_s=90)
    assert all(x["week"] == week and x["reason"] for x in late["late"])
    after = _get(api, f"/v1/creators/{ada}/pool/weeks/{week}", mint(api, ada))
    assert after["allocated_minor"] == est_ada["estimated_minor"]

    # Post once, earn forever: the item ledger and the creator center show the week.
    ledger = _get(api, f"/v1/creators/{ada}/pool/items", mint(api, ada))
    row = next(i for i in ledger["items"] if i["item_id"] == pa)
    assert [w["week"] for w in row["weeks"]] == [week]
    assert row["lifetime_minor"] == sum(w["amount_minor"] for w in row["weeks"]) > 0
    center = _get(api, f"/v1/creators/{ada}/center", mint(api, ada))
    this_week = next(w for w in center["weeks"] if w["week"] == week)
    assert this_week["settled"] and this_week["settled_minor"] == est_ada["estimated_minor"]
    assert this_week["followers_gained"] == 1 and this_week["views"] == 3
