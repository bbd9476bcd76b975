"""The versioned scoring policy: every parameter of the model, immutable, encoded and hashed."""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from services.incentive.domain.facts import (
    FIRST_KINDS,
    INTERACTION_KINDS,
    MAX_DWELL_SECONDS,
    MAX_EVENTS,
    MAX_ID,
    EventKind,
    IsoWeek,
    UnrepresentableInput,
    check_int,
)

_INT64_LIMIT = 1 << 63
_MILLI = 1_000  # engagement.MILLI (interaction points are attributed in milli-points)
# Value weight times budget units stays below this (exact D'Hondt quotients, allocation.py).
_BUDGET_LIMIT = 1 << 20


@dataclass(frozen=True)
class ScoringPolicy:
    """All knobs of the weekly split. Integers only, so the encoding (and the hash) is exact."""

    version: str
    effective_from_week: str  # 'YYYY-Www'; a week settles under the policy in force for it
    # Consumer value weight: verified = base + min(max_fee_weight, fees // fee_per_weight_minor).
    fee_per_weight_minor: int
    max_fee_weight: int
    verified_base_weight: int
    unverified_weight: int
    # A consumer's weekly influence budget is weight * budget_units_per_weight score units.
    budget_units_per_weight: int
    # Concavity: credit = isqrt(points * concavity_scale); the budget is fully spent at
    # saturation_points of engagement (or more) with one creator or spread over several.
    concavity_scale: int
    saturation_points: int
    # Dwell.
    min_dwell_seconds: int
    dwell_cap_seconds: int  # per (consumer, item, UTC day)
    dwell_points_per_second: int
    # Interactions: points per kind, minimum text length, cap per (consumer, creator, UTC day).
    interaction_points: tuple[tuple[str, int], ...]
    min_text_length: int
    interaction_cap_points: int
    # Settlement.
    min_payout_minor: int
    # Breakdown buckets: lower bounds of value weight, ascending, first is 0.
    tier_lower_bounds: tuple[int, ...]

    def __post_init__(self) -> None:
        """Refuse any policy under which some valid week would not be settled exactly: a
        field of the wrong type or out of range, or a combination whose worst-case products
        (for any week the facts accept) would leave int64 (see `_headroom`)."""
        for name in ("version", "effective_from_week"):
            if not isinstance(getattr(self, name), str):
                raise UnrepresentableInput(f"policy.{name}", getattr(self, name), "a string")
        IsoWeek.parse(self.effective_from_week)
        for f in fields(self):
            if f.type == "int":  # every count, weight, divisor and amount: a non-negative int64
                check_int(f"policy.{f.name}", getattr(self, f.name), 0, MAX_ID)
        # Divisors (fees per weight, saturation credit) and the budget: 0 is no policy.
        for name in ("fee_per_weight_minor", "budget_units_per_weight", "concavity_scale",
                     "saturation_points"):
            check_int(f"policy.{name}", getattr(self, name), 1, MAX_ID, "divides or scales")
        self._check_points_table()
        bounds = self.tier_lower_bounds
        for k, b in enumerate(bounds):
            check_int(f"policy.tier_lower_bounds[{k}]", b, 0, MAX_ID)
        if not bounds or bounds[0] != 0 or list(bounds) != sorted(set(bounds)):
            raise UnrepresentableInput("policy.tier_lower_bounds", bounds,
                                       "bounds starting at 0, strictly ascending")
        budget = self.max_weight * self.budget_units_per_weight
        if budget >= _BUDGET_LIMIT:
            raise UnrepresentableInput(
                "policy.max_weight * budget_units_per_weight", budget, "[0, 2**20)",
                "exact D'Hondt quotients; max_weight = max(verified_base_weight + "
                "max_fee_weight, unverified_weight)")
        for what, value, limit, names in _headroom(self):
            if value >= limit:
                raise UnrepresentableInput(
                    f"policy.{'/'.join(names)}",
                    {n: getattr(self, n) if n != "interaction_points" else
                     max(p for _, p in self.interaction_points) for n in names},
                    f"values keeping {what} below 2**{limit.bit_length() - 1} "
                    f"(worst case {value}, for a week of up to {MAX_EVENTS} events)")

    def _check_points_table(self) -> None:
        """At most one non-negative int64 entry per interaction kind, sorted by name, and one
        for each kind of the launch model (FIRST_KINDS). A kind added later may be left out:
        it then earns 0 points. So a policy published before group chats (v1) keeps its
        canonical encoding and hash, and settles every week exactly as before; a new kind
        earns points only under a policy that names it (a new version)."""
        table = self.interaction_points
        kinds = [k for k, _ in table] if all(
            isinstance(e, tuple) and len(e) == 2 for e in table) else []
        known = {k.name for k in INTERACTION_KINDS}
        required = {k.name for k in FIRST_KINDS}
        if not (kinds == sorted(set(kinds)) and set(kinds) <= known and required <= set(kinds)):
            raise UnrepresentableInput(
                "policy.interaction_points", [e[0] for e in table],
                f"one entry per interaction kind, sorted by name: every one of "
                f"{sorted(required)}, optionally {sorted(known - required)} (0 points when "
                "left out)")
        for kind, points in table:
            check_int(f"policy.interaction_points[{kind}]", points, 0, MAX_ID)

    @property
    def max_weight(self) -> int:
        """The largest value weight any consumer can hold."""
        return max(self.verified_base_weight + self.max_fee_weight, self.unverified_weight)

    def points_for(self, kind: EventKind) -> int:
        """Policy points of one counted interaction of `kind` (0 for a kind the table leaves
        out: one added after the policy was written)."""
        return dict(self.interaction_points).get(kind.name, 0)

    def to_canonical(self) -> dict[str, Any]:
        """The policy as a JSON-ready dict of ints, strings and lists."""
        return {k: ([list(x) for x in v] if k == "interaction_points" else
                    list(v) if isinstance(v, tuple) else v)
                for k, v in asdict(self).items()}

    def canonical_bytes(self) -> bytes:
        """Sorted-key compact UTF-8 JSON: the encoding that is hashed and published."""
        return json.dumps(self.to_canonical(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode("utf-8")

    @property
    def hash(self) -> str:
        """SHA-256 of the canonical encoding, hex."""
        return hashlib.sha256(self.canonical_bytes()).hexdigest()

    @classmethod
    def from_canonical(cls, data: bytes) -> ScoringPolicy:
        """Decode a canonical encoding (round-trips with canonical_bytes)."""
        raw = json.loads(data)
        raw["interaction_points"] = tuple((str(k), int(v)) for k, v in raw["interaction_points"])
        raw["tier_lower_bounds"] = tuple(raw["tier_lower_bounds"])
        return cls(**raw)

    def evolve(self, **changes: Any) -> ScoringPolicy:
        """A new policy value with some fields changed (a new version must be given)."""
        if "version" not in changes:
            raise ValueError("a changed policy needs a new version")
        return replace(self, **changes)


def _headroom(p: ScoringPolicy) -> list[tuple[str, int, int, tuple[str, ...]]]:
    """Worst cases of the int64 quantities the stages form, for any week WeekFacts accepts
    (at most MAX_EVENTS events, each view at most MAX_DWELL_SECONDS), as
    (what, worst value, exclusive limit, policy fields it grows with); exact Python ints.

    Bounds used (N events; engagement.py and allocation.py name the quantities):
    - a (consumer, item, day) group's raw interaction points: <= N * max points; its capped
      day total E <= min(cap, N * max points);
    - a (consumer, item) row: dwell <= min(7 * dwell cap, N * max dwell) seconds, interaction
      <= min(7 * E, N * max points) points;
    - the week's counted points T (all consumers and creators; so any pair's or consumer's
      too) <= N * (min(7 * dwell cap, max dwell) * points per second + min(7 * E, max
      points)): each event adds at most that much to its row;
    - credits g = isqrt(points * concavity_scale), so the week's credits sum to at most
      isqrt(N * T * concavity_scale) (Cauchy-Schwarz over at most N pairs).
    """
    n, budget = MAX_EVENTS, p.max_weight * p.budget_units_per_weight
    top_points = max(points for _, points in p.interaction_points)
    day_eff = min(p.interaction_cap_points, n * top_points)
    row_dwell = min(7 * p.dwell_cap_seconds, n * MAX_DWELL_SECONDS) * p.dwell_points_per_second
    row_inter = min(7 * day_eff, n * top_points)
    all_points = n * (min(7 * p.dwell_cap_seconds, MAX_DWELL_SECONDS)
                      * p.dwell_points_per_second + min(7 * day_eff, top_points))
    credit_sum = math.isqrt(n * all_points * p.concavity_scale) + 1
    inter = ("interaction_points", "interaction_cap_points")
    dwell = ("dwell_cap_seconds", "dwell_points_per_second")
    scale = (*dwell, *inter, "concavity_scale")
    return [
        # _rows_and_pairs: a group's raw points * capped day points * 1000, before dividing.
        ("capped interaction milli-points", n * top_points * max(day_eff, 1) * _MILLI,
         _INT64_LIMIT, inter),
        # _item_shares: a consumer's units for a creator times a row's milli-points.
        ("units x row dwell milli-points", budget * row_dwell * _MILLI, _INT64_LIMIT, dwell),
        ("units x row interaction milli-points", budget * row_inter * _MILLI, _INT64_LIMIT,
         inter),
        # _item_shares: milli-points summed per pair over its rows, and per item.
        ("the week's milli-points", all_points * _MILLI, _INT64_LIMIT, (*dwell, *inter)),
        # allocate_budgets: isqrt_array takes a pair's points * concavity_scale below 2**62.
        ("points x concavity_scale", all_points * p.concavity_scale, 1 << 62, scale),
        # allocate_budgets, _discounts: units before the bound, summed per consumer, and the
        # units the bound took, summed per creator.
        ("the week's unbounded units", budget * credit_sum, _INT64_LIMIT, scale),
    ]


def default_policy() -> ScoringPolicy:
    """The launch policy, v1 (the worked example in docs/incentives.md uses it)."""
    return ScoringPolicy(
        version="1",
        effective_from_week="2026-W01",
        fee_per_weight_minor=1_000,  # one weight per 10.00 USDT of trailing 30-day fees
        max_fee_weight=100,
        verified_base_weight=1,
        unverified_weight=0,
        budget_units_per_weight=1_000,
        concavity_scale=100,
        saturation_points=600,
        min_dwell_seconds=5,
        dwell_cap_seconds=600,
        dwell_points_per_second=1,
        interaction_points=(("COMMENT", 30), ("FOLLOW", 50), ("LIKE", 5), ("QA", 60),
                            ("REPLY", 20), ("SHARE", 40), ("TIP", 60)),
        min_text_length=20,
        interaction_cap_points=200,
        min_payout_minor=100,
        tier_lower_bounds=(0, 1, 2, 11, 51, 101),
    )


# Points of the group kinds in the group-engagement policy. A message is worth a third of a
# comment (chat is cheaper to write than a comment under a post, and more frequent); a
# reaction less than a like (several per message are allowed). Both share the interaction cap
# per (consumer, creator, UTC day), so a chatty member cannot earn an owner more than any
# other engaged consumer a day.
GROUP_MESSAGE_POINTS = 10
GROUP_REACTION_POINTS = 2


def group_engagement_policy(effective_from_week: str, version: str = "2") -> ScoringPolicy:
    """The launch policy plus points for group messages and reactions (issue 15): published
    through the operator API from a future week; every other parameter is v1's."""
    base = default_policy()
    return base.evolve(
        version=version, effective_from_week=effective_from_week,
        interaction_points=tuple(sorted((*base.interaction_points,
                                         ("GROUP_MESSAGE", GROUP_MESSAGE_POINTS),
                                         ("GROUP_REACTION", GROUP_REACTION_POINTS)))))
