"""The week's stage 1 in ClickHouse SQL: raw rows in, counted points and discounts out.

An independent statement of docs/incentives.md "Counted engagement" (and of how the settlement
reads statuses, scoring/week_inputs.py), written from the rules, not from the model's code:
a disagreement with the model is then a finding, not a shared bug. Step by step, each a table:

1. ``wk``: the rows whose time lies in the week (other rows of the same records belong to
   other weeks' settlements), with ``dup_rank``: per event id, 1 for the smallest full row
   (the model's tie rule: consumer, creator, item ids, time, kind, dwell, text length).
2. Statuses as of the close: the latest UserStatus / ItemStatus per key (by partition and
   offset), periods holding at ``status_at``; fees of the 30 days before the week in the
   pool's asset; an item without a published status is owned by the creator its earliest row
   (time, then event id) names, and is never removed.
3. ``judged``: each row's first failed rule in the model's order, or '' when it passes.
4. ``counted``: passing rows; one like per (consumer, item), one follow per (consumer,
   creator), the earliest by (time, event id); the others are repeat_interaction.
5. ``grp``: per (consumer, item, UTC day): view seconds capped at dwell_cap_seconds;
   interaction points capped per (consumer, creator, day), each group keeping its share in
   milli-points (floor of raw × capped day total × 1000 / raw day total).
6. Pairs: Σ capped seconds × dwell_points_per_second + Σ capped day totals; items: counted
   seconds and milli-points; discounts per (creator, item, reason) with events and quantity
   (seconds for below_min_dwell and dwell_cap, milli-points for interaction_cap; a capped
   group counts as one event).

Only integers go into the text (and the asset, quoted): the values are this job's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.incentive.domain.policy import ScoringPolicy

MS_PER_DAY = 86_400_000
FEE_WINDOW_DAYS = 30  # the trailing window the settlement weighs consumers by
_KIND_NUMBER = {"VIEW": 0, "LIKE": 1, "COMMENT": 2, "REPLY": 3, "SHARE": 4, "FOLLOW": 5,
                "TIP": 6, "QA": 7, "GROUP_MESSAGE": 8, "GROUP_REACTION": 9}
# Comment, reply, Q&A, group message. A kind the policy's table leaves out earns 0 points
# (the transform's default below), as in the model.
_TEXT_KINDS = (2, 3, 7, 8)
_LIKE, _FOLLOW, _VIEW = 1, 5, 0

# Raw tables: (name, columns with types). Every fact row and status record as read.
TABLES: dict[str, tuple[tuple[str, str], ...]] = {
    "facts": (("topic", "String"), ("partition", "UInt32"), ("offset", "Int64"),
              ("consumer", "String"), ("event", "String"), ("item", "String"),
              ("creator", "String"), ("at", "Int64"), ("kind", "UInt8"), ("dwell", "Int64"),
              ("text_len", "Int64"), ("event_int", "Int64"), ("consumer_int", "Int64"),
              ("creator_int", "Int64"), ("item_int", "Int64")),
    "users": (("partition", "UInt32"), ("offset", "Int64"), ("user", "String"),
              ("kyc_at", "Int64")),
    "user_periods": (("partition", "UInt32"), ("offset", "Int64"), ("user", "String"),
                     ("what", "String"), ("from_ms", "Int64"), ("until_ms", "Int64")),
    "user_fees": (("partition", "UInt32"), ("offset", "Int64"), ("user", "String"),
                  ("day", "Int64"), ("quote_minor", "Int64"), ("asset", "String")),
    "items": (("partition", "UInt32"), ("offset", "Int64"), ("item", "String"),
              ("creator", "String")),
    "item_removals": (("partition", "UInt32"), ("offset", "Int64"), ("item", "String"),
                      ("from_ms", "Int64"), ("until_ms", "Int64")),
}


def ddl(database: str) -> list[str]:
    """CREATE TABLE statements of the raw tables."""
    return [f"CREATE TABLE {database}.{name} ({', '.join(f'`{c}` {t}' for c, t in cols)}) "
            "ENGINE = Memory" for name, cols in TABLES.items()]


@dataclass(frozen=True)
class WeekParams:
    """What the SQL needs besides the rows: the week, the close, the asset, the policy."""

    start_ms: int
    end_ms: int
    status_at_ms: int
    asset: str
    policy: ScoringPolicy


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _values(p: WeekParams) -> dict[str, str]:
    pol = p.policy
    kinds = sorted(_KIND_NUMBER[k] for k, _ in pol.interaction_points)
    points = dict((_KIND_NUMBER[k], v) for k, v in pol.interaction_points)
    first_day = p.start_ms // MS_PER_DAY - FEE_WINDOW_DAYS
    values = {
        "start": p.start_ms, "end": p.end_ms, "at": p.status_at_ms,
        "first_day": first_day, "last_day": p.start_ms // MS_PER_DAY,
        "base": pol.verified_base_weight, "max_fee": pol.max_fee_weight,
        "fee_per": pol.fee_per_weight_minor, "unverified": pol.unverified_weight,
        "min_dwell": pol.min_dwell_seconds, "dwell_cap": pol.dwell_cap_seconds,
        "pps": pol.dwell_points_per_second, "min_text": pol.min_text_length,
        "icap": pol.interaction_cap_points, "day_ms": MS_PER_DAY,
        "like": _LIKE, "follow": _FOLLOW, "view": _VIEW,
    }
    out = {k: str(int(v)) for k, v in values.items()}
    out["asset"] = _quote(p.asset)
    out["text_kinds"] = ", ".join(map(str, _TEXT_KINDS))
    out["points"] = (f"transform(kind, [{', '.join(map(str, kinds))}], "
                     f"[{', '.join(str(int(points[k])) for k in kinds)}], toInt64(0))")
    return out


# Each statement creates one table from the ones before it ({db} is the database).
_STEPS: tuple[str, ...] = (
    # 1. The week's rows, with each event id's rows ranked by the full row.
    """CREATE TABLE {db}.wk ENGINE = Memory AS
    SELECT *, row_number() OVER (
        PARTITION BY event
        ORDER BY consumer_int, creator_int, item_int, at, kind, dwell, text_len) AS dup_rank
    FROM {db}.facts WHERE at >= {start} AND at < {end}""",
    # 2. Users as of the close (latest record per user; periods of that record).
    """CREATE TABLE {db}.user_latest ENGINE = Memory AS
    SELECT user, argMax(kyc_at, (partition, offset)) AS kyc_at,
           argMax(partition, (partition, offset)) AS lp,
           argMax(offset, (partition, offset)) AS lo
    FROM {db}.users GROUP BY user""",
    """CREATE TABLE {db}.user_asof ENGINE = Memory AS
    SELECT l.user AS user,
           toUInt8(l.kyc_at > 0 AND l.kyc_at <= {at}) AS kyc,
           toUInt8(s.n > 0) AS sanctioned, toUInt8(o.n > 0) AS identity_open,
           f.fees AS fees
    FROM {db}.user_latest AS l
    LEFT JOIN (SELECT user, partition, offset, count() AS n FROM {db}.user_periods
               WHERE what = 'sanction' AND from_ms <= {at} AND (until_ms = 0 OR {at} < until_ms)
               GROUP BY user, partition, offset) AS s
        ON s.user = l.user AND s.partition = l.lp AND s.offset = l.lo
    LEFT JOIN (SELECT user, partition, offset, count() AS n FROM {db}.user_periods
               WHERE what = 'identity' AND from_ms <= {at} AND (until_ms = 0 OR {at} < until_ms)
               GROUP BY user, partition, offset) AS o
        ON o.user = l.user AND o.partition = l.lp AND o.offset = l.lo
    LEFT JOIN (SELECT user, partition, offset, sum(quote_minor) AS fees FROM {db}.user_fees
               WHERE day >= {first_day} AND day < {last_day} AND asset = {asset}
               GROUP BY user, partition, offset) AS f
        ON f.user = l.user AND f.partition = l.lp AND f.offset = l.lo""",
    # Consumers: value weight (sanctioned 0; verified base + capped fee weight; else the
    # unverified weight; a consumer with no status is unverified).
    """CREATE TABLE {db}.cons ENGINE = Memory AS
    SELECT c.consumer AS consumer, u.sanctioned AS sanctioned,
           multiIf(u.sanctioned = 1, toInt64(0),
                   u.kyc = 1, toInt64({base}) + least(toInt64({max_fee}),
                                                      intDiv(greatest(u.fees, 0), {fee_per})),
                   toInt64({unverified})) AS weight
    FROM (SELECT DISTINCT consumer FROM {db}.wk) AS c
    LEFT JOIN {db}.user_asof AS u ON u.user = c.consumer""",
    # Creators: KYC and an open identity; no status, not eligible.
    """CREATE TABLE {db}.crs ENGINE = Memory AS
    SELECT c.creator AS creator, toUInt8(u.kyc = 1 AND u.identity_open = 1) AS eligible
    FROM (SELECT DISTINCT creator FROM {db}.wk) AS c
    LEFT JOIN {db}.user_asof AS u ON u.user = c.creator""",
    # Items: the latest published status names the owner and the removal standing at the
    # close (its start); else the earliest row's creator, never removed.
    """CREATE TABLE {db}.item_latest ENGINE = Memory AS
    SELECT item, argMax(creator, (partition, offset)) AS creator,
           argMax(partition, (partition, offset)) AS lp,
           argMax(offset, (partition, offset)) AS lo
    FROM {db}.items GROUP BY item""",
    """CREATE TABLE {db}.item_of ENGINE = Memory AS
    SELECT w.item AS item,
           if(l.creator != '', l.creator, w.first_creator) AS owner,
           if(l.creator != '' AND r.n > 0, r.removed_at, toInt64({end}) + 1) AS removed_at
    FROM (SELECT item, argMin(creator, (at, event_int)) AS first_creator
          FROM {db}.wk GROUP BY item) AS w
    LEFT JOIN {db}.item_latest AS l ON l.item = w.item
    LEFT JOIN (SELECT item, partition, offset, min(from_ms) AS removed_at, count() AS n
               FROM {db}.item_removals
               WHERE from_ms <= {at} AND (until_ms = 0 OR {at} < until_ms)
               GROUP BY item, partition, offset) AS r
        ON r.item = l.item AND r.partition = l.lp AND r.offset = l.lo""",
    # 3. The first rule each row fails, in the model's order.
    """CREATE TABLE {db}.judged ENGINE = Memory AS
    SELECT w.consumer AS consumer, w.event AS event, w.item AS item, w.creator AS creator,
           w.at AS at, w.kind AS kind, w.dwell AS dwell, w.text_len AS text_len,
           w.event_int AS event_int, i.owner AS owner,
           multiIf(w.dup_rank > 1, 'duplicate_event',
                   w.at < {start} OR w.at >= {end}, 'out_of_window',
                   w.consumer = w.creator, 'self_interaction',
                   i.owner != w.creator, 'unknown_item',
                   w.at >= i.removed_at, 'item_removed',
                   r.eligible != 1, 'creator_ineligible',
                   c.sanctioned = 1, 'sanctioned_account',
                   c.weight <= 0, 'no_value_weight',
                   w.kind = {view} AND w.dwell < {min_dwell}, 'below_min_dwell',
                   w.kind IN ({text_kinds}) AND w.text_len < {min_text}, 'short_text',
                   '') AS reason
    FROM {db}.wk AS w
    LEFT JOIN {db}.item_of AS i ON i.item = w.item
    LEFT JOIN {db}.crs AS r ON r.creator = w.creator
    LEFT JOIN {db}.cons AS c ON c.consumer = w.consumer""",
    # 4. Once-only kinds: the earliest (time, event id) per (consumer, item) for likes and
    # per (consumer, creator) for follows.
    """CREATE TABLE {db}.counted ENGINE = Memory AS
    SELECT *, if(kind IN ({like}, {follow}),
                 row_number() OVER (PARTITION BY consumer, kind,
                                    if(kind = {follow}, creator, item)
                                    ORDER BY at, event_int),
                 1) AS once_rank
    FROM {db}.judged WHERE reason = ''""",
    # 5. Per (consumer, item, UTC day of the week): raw seconds and raw points.
    """CREATE TABLE {db}.grp0 ENGINE = Memory AS
    SELECT consumer, item, any(owner) AS creator, intDiv(at - {start}, {day_ms}) AS day,
           sumIf(dwell, kind = {view}) AS sec, sum({points}) AS ipts
    FROM {db}.counted WHERE once_rank = 1 GROUP BY consumer, item, day""",
    """CREATE TABLE {db}.grp ENGINE = Memory AS
    SELECT g.consumer AS consumer, g.item AS item, g.creator AS creator, g.day AS day,
           g.sec AS sec, least(g.sec, toInt64({dwell_cap})) AS csec, g.ipts AS ipts,
           d.raw AS day_raw, least(d.raw, toInt64({icap})) AS day_eff,
           intDiv(g.ipts * least(d.raw, toInt64({icap})) * 1000, greatest(d.raw, 1))
               AS ieff_milli
    FROM {db}.grp0 AS g
    INNER JOIN (SELECT consumer, creator, day, sum(ipts) AS raw FROM {db}.grp0
                GROUP BY consumer, creator, day) AS d
        ON d.consumer = g.consumer AND d.creator = g.creator AND d.day = g.day""",
)

PAIRS = """
SELECT consumer, creator, sum(points) AS points FROM (
    SELECT consumer, creator, sum(csec) * {pps} AS points FROM {db}.grp
    GROUP BY consumer, creator
    UNION ALL
    SELECT consumer, creator, sum(eff) AS points FROM (
        SELECT consumer, creator, day, any(day_eff) AS eff FROM {db}.grp
        GROUP BY consumer, creator, day)
    GROUP BY consumer, creator)
GROUP BY consumer, creator ORDER BY consumer, creator"""

ITEMS = """
SELECT creator, item, sum(csec) AS dwell_seconds, sum(ieff_milli) AS milli FROM {db}.grp
GROUP BY creator, item ORDER BY creator, item"""

DISCOUNTS = """
SELECT creator, item, reason, sum(events) AS events, sum(quantity) AS quantity FROM (
    SELECT creator, item, reason, toInt64(count()) AS events,
           sum(if(reason = 'below_min_dwell', dwell, toInt64(1))) AS quantity
    FROM {db}.judged WHERE reason != '' GROUP BY creator, item, reason
    UNION ALL
    SELECT creator, item, 'repeat_interaction' AS reason, toInt64(count()) AS events,
           toInt64(count()) AS quantity
    FROM {db}.counted WHERE once_rank > 1 GROUP BY creator, item
    UNION ALL
    SELECT creator, item, 'dwell_cap' AS reason, toInt64(count()) AS events,
           sum(sec - csec) AS quantity
    FROM {db}.grp WHERE sec > csec GROUP BY creator, item
    UNION ALL
    SELECT creator, item, 'interaction_cap' AS reason, toInt64(count()) AS events,
           sum(ipts * 1000 - ieff_milli) AS quantity
    FROM {db}.grp WHERE ieff_milli < ipts * 1000 GROUP BY creator, item)
GROUP BY creator, item, reason ORDER BY creator, item, reason"""

COUNTS = """
SELECT (SELECT count() FROM {db}.facts) AS read_rows,
       (SELECT count() FROM {db}.wk) AS week_rows,
       (SELECT count() FROM {db}.counted WHERE once_rank = 1) AS counted_rows"""


def steps(database: str, params: WeekParams) -> list[str]:
    """The statements that build the week's tables, in order."""
    values = {"db": database, **_values(params)}
    return [step.format(**values) for step in _STEPS]


def query(template: str, database: str, params: WeekParams) -> str:
    """One of PAIRS, ITEMS, DISCOUNTS, COUNTS for ``database``."""
    return template.format(db=database, **_values(params))
