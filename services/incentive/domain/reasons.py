"""Reason codes for engagement that did not count in full, as shown in the breakdown."""

from enum import StrEnum


class Reason(StrEnum):
    """Why some engagement was discounted; the value is the stable wire code."""

    DUPLICATE_EVENT = "duplicate_event"
    OUT_OF_WINDOW = "out_of_window"
    SELF_INTERACTION = "self_interaction"
    SANCTIONED_ACCOUNT = "sanctioned_account"
    CREATOR_INELIGIBLE = "creator_ineligible"
    ITEM_REMOVED = "item_removed"
    UNKNOWN_ITEM = "unknown_item"
    BELOW_MIN_DWELL = "below_min_dwell"
    DWELL_CAP = "dwell_cap"
    SHORT_TEXT = "short_text"
    REPEAT_INTERACTION = "repeat_interaction"
    INTERACTION_CAP = "interaction_cap"
    NO_VALUE_WEIGHT = "no_value_weight"
    INFLUENCE_BOUND = "influence_bound"


# Stable small integers used in the columnar stages; never renumber.
REASON_CODES: tuple[Reason, ...] = tuple(Reason)
REASON_INDEX: dict[Reason, int] = {r: i for i, r in enumerate(REASON_CODES)}
