"""The bounds every input and every per-key state keeps (so no value grows without limit)."""

from __future__ import annotations

from dataclasses import dataclass

MAX_NAME_CHARS = 64
MAX_DESCRIPTION_CHARS = 1_000
MAX_RULES_CHARS = 4_000
MAX_TOPICS = 5
MAX_TOPIC_CHARS = 30
MAX_URL_CHARS = 300
MAX_MEMBER_LIMIT = 200_000
MAX_TEXT_CHARS = 4_096  # Telegram's message limit
MAX_MENTIONS = 20
MAX_ATTACHMENTS = 4
MAX_REASON_CHARS = 500
MAX_NOTE_CHARS = 500
MAX_DETAIL_CHARS = 1_000
MAX_APPEAL_CHARS = 2_000
MAX_PINS = 20
MAX_REACTIONS_PER_MEMBER = 3
MAX_EMOJI_BYTES = 32
MAX_FILTER_RULES = 100
MAX_PATTERN_CHARS = 64
MAX_SLOW_MODE_S = 3_600
MAX_MUTE_S = 366 * 24 * 3_600
MAX_LINK_USES = 100_000
MAX_LINK_NAME_CHARS = 64
MIN_LINK_ID_CHARS = 16
MAX_LINK_ID_CHARS = 64
MAX_ID_CHARS = 128


@dataclass(frozen=True, slots=True)
class FloodLimit:
    """The anti-flood bucket: ``burst`` messages at once, then one per ``interval_ms``.

    Kept as credit in milliseconds (a GCRA): full credit is ``burst * interval_ms``, a message
    costs ``interval_ms``, credit grows one per elapsed millisecond up to full. Integers only,
    so a replay of the log gives the live state exactly. A service setting, the same for
    every group (a group's own setting would be one more field in its info).
    """

    burst: int = 5
    interval_ms: int = 1_000

    @property
    def capacity_ms(self) -> int:
        """Full credit."""
        return self.burst * self.interval_ms


FLOOD = FloodLimit()
