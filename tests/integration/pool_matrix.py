"""The weekly pool's HTTP part of the authorization matrix (test_system_authorization_matrix.py):
the expected answers and one well-formed request per operation.

A creator's pool data is theirs: the owner and operators read it, everyone else gets 403
from the gateway before any call. The settled weeks are public to anyone signed in.
Operator routes are 403 to everyone but operators; the operator's requests are chosen to
change nothing the rest of the suite sees: a funding and a policy for a far-future week,
an early close and a shadow comparison of a week that has not started (409, past
authorization), a held decision for a week the owner has no result in (404), the late facts
of an old week (200, none).
"""

from __future__ import annotations

from typing import Any

import httpx
from system_helpers import unique

from services.incentive.domain.policy import default_policy

SIGNED_IN = ("user", "other_user", "owner", "analyst", "operator")
FUTURE_WEEK = "2099-W01"  # funded and given a policy: no other test reads it
OLD_WEEK = "2026-W01"  # nobody has a settled result in it in a fresh stack


def _only(statuses: dict[str, int], others: int = 403) -> dict[str, int]:
    return {p: statuses.get(p, others) for p in SIGNED_IN}


# (method, path) -> status per signed-in persona (the matrix adds the unauthenticated ones).
POOL_HTTP: dict[tuple[str, str], dict[str, int]] = {
    ("GET", "/v1/creators/{creator_id}/pool/weeks"): _only({"owner": 200, "operator": 200}),
    ("GET", "/v1/creators/{creator_id}/pool/weeks/{week}"): _only(
        {"owner": 404, "operator": 404}),
    ("GET", "/v1/creators/{creator_id}/pool/items"): _only({"owner": 200, "operator": 200}),
    ("GET", "/v1/creators/{creator_id}/center"): _only({"owner": 200, "operator": 200}),
    ("GET", "/v1/pool/weeks"): dict.fromkeys(SIGNED_IN, 200),
    ("POST", "/v1/operator/pool/fundings"): _only({"operator": 201}),
    ("POST", "/v1/operator/pool/policies"): _only({"operator": 201}),
    ("POST", "/v1/operator/pool/shadow"): _only({"operator": 409}),
    ("POST", "/v1/operator/pool/weeks/{week}/close"): _only({"operator": 409}),
    ("POST", "/v1/operator/pool/weeks/{week}/held/{creator_id}"): _only({"operator": 404}),
    ("GET", "/v1/operator/pool/weeks/{week}/late"): _only({"operator": 200}),
}


def _policy(version: str) -> dict[str, Any]:
    fields = default_policy().to_canonical()
    fields.pop("version", None)
    fields.pop("effective_from_week", None)
    return {"version": version, "effective_week": FUTURE_WEEK, "policy": fields}


# One policy version per run: a repeat of the same version and policy answers 201 again.
_POLICY = _policy(unique("matrix"))


def pool_call(api: httpx.Client, owner: str, method: str, path: str,
              headers: dict[str, str]) -> httpx.Response | None:
    """The request of a weekly pool operation (None: not one of them)."""
    if (method, path) not in POOL_HTTP:
        return None
    week = FUTURE_WEEK if path.endswith("/close") else OLD_WEEK
    url = path.format(creator_id=owner, week=week)
    keyed = {**headers, "Idempotency-Key": unique("pool")}
    if path == "/v1/operator/pool/fundings":
        return api.post(url, headers=keyed,
                        json={"week": FUTURE_WEEK, "amount_minor": 1, "asset": "USDT"})
    if path == "/v1/operator/pool/policies":
        return api.post(url, headers=headers, json=_POLICY)
    if path == "/v1/operator/pool/shadow":
        return api.post(url, headers=headers, json={"week": FUTURE_WEEK})
    if path.endswith("/close"):
        return api.post(url, headers=keyed, json={"reason": "matrix"})
    if "/held/" in path:
        return api.post(url, headers=keyed, json={"decision": "release", "reason": "matrix"})
    return api.get(url, headers=headers)
