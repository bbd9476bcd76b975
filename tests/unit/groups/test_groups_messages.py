"""Posting rules: size, slow mode (with the seconds left), anti-flood (a bounded bucket with
Retry-After), keyword and link filters (block with the rule hit, or hold for review and
release), edits, deletes, reactions, pins and read positions."""

from __future__ import annotations

from planet.content.v1.events_pb2 import CoinTicker, TradingComponent
from planet.groups.v1 import group_events_pb2 as ev
from services.groups.domain import commands as c
from services.groups.domain import limits as lim
from services.groups.domain.refusals import HTTP_STATUS, Code, Refusal
from tests.unit.groups.groups_world import G, World, seeded


def _refused(out: object, code: Code) -> Refusal:
    assert isinstance(out, Refusal), out
    assert out.code is code, out
    return out


def _rules(*rules: tuple[ev.FilterKind.ValueType, str, ev.FilterAction.ValueType]
           ) -> tuple[ev.FilterRule, ...]:
    return tuple(ev.FilterRule(kind=k, pattern=p, action=a) for k, p, a in rules)


def test_size_limits_and_empty_messages() -> None:
    w = seeded()
    w.post("member", "x" * lim.MAX_TEXT_CHARS)
    out = _refused(w.run(c.PostMessage("member", G, "x" * (lim.MAX_TEXT_CHARS + 1))),
                   Code.TOO_LONG)
    assert out.http_status == 413 and "4097" in out.message
    _refused(w.run(c.PostMessage("member", G, "   \n")), Code.EMPTY)
    # Markup alone shows nothing: the parser, not a pattern, says so.
    _refused(w.run(c.PostMessage("member", G, "-")), Code.EMPTY)  # an empty list item
    _refused(w.run(c.PostMessage("member", G, "> \n>")), Code.EMPTY)
    _refused(w.run(c.PostMessage("member", G, "bell \x07")), Code.INVALID)
    _refused(w.run(c.PostMessage("member", G, "hi", mentions=tuple(f"u{i}" for i in range(21)))),
             Code.INVALID)
    # An attachment alone is a message; five are too many.
    ticker = TradingComponent(ticker=CoinTicker(symbol="BTC"))
    w.ok(c.PostMessage("mod", G, "", attachments=(ticker,)))
    _refused(w.run(c.PostMessage("admin", G, "x", attachments=(ticker,) * 5)), Code.INVALID)
    _refused(w.run(c.PostMessage("admin", G, "x", attachments=(TradingComponent(),))),
             Code.INVALID)


def test_slow_mode_says_how_long_to_wait_and_spares_staff() -> None:
    w = seeded()
    w.ok(c.SetSlowMode("admin", G, 30, "too busy"))
    w.post("member", "first")
    out = _refused(w.run(c.PostMessage("member", G, "second"), at=w.now + 10_500), Code.SLOW_MODE)
    assert out.retry_after_s == 20 and out.http_status == 429
    out = _refused(w.run(c.PostMessage("member", G, "second"), at=w.now + 29_001), Code.SLOW_MODE)
    assert out.retry_after_s == 1
    assert not isinstance(w.run(c.PostMessage("member", G, "second"), at=w.now + 30_000), Refusal)
    # Staff enforce slow mode; they are not slowed by it (the flood bucket still applies).
    w.post("mod", "a")
    w.post("mod", "b")
    # Off again: the member posts freely (within the flood bucket).
    w.ok(c.SetSlowMode("admin", G, 0))
    assert w.run(c.SetSlowMode("admin", G, 0)) == []
    w.now += 60_000
    w.post("member", "c")
    w.post("member", "d")
    _refused(w.run(c.SetSlowMode("admin", G, lim.MAX_SLOW_MODE_S + 1)), Code.INVALID)


def test_flood_bucket_allows_a_burst_then_one_per_interval() -> None:
    w = seeded()
    burst, interval = lim.FLOOD.burst, lim.FLOOD.interval_ms
    for i in range(burst):
        w.post("member", f"m{i}")
    out = _refused(w.run(c.PostMessage("member", G, "one more")), Code.FLOOD)
    assert out.retry_after_s == interval // 1_000 and out.http_status == 429
    # Half an interval later: still a wait of one (rounded up) second.
    out = _refused(w.run(c.PostMessage("member", G, "x"), at=w.now + interval // 2), Code.FLOOD)
    assert out.retry_after_s == 1
    # One interval later exactly one message passes, then the bucket is empty again.
    w.now += interval
    w.post("member", "ok")
    _refused(w.run(c.PostMessage("member", G, "again")), Code.FLOOD)
    # The owner is flood-limited too (a runaway client is one whoever holds the session).
    for i in range(burst):
        w.post("owner", f"o{i}")
    _refused(w.run(c.PostMessage("owner", G, "more")), Code.FLOOD)
    # After a long quiet spell the credit is full again but never more than the burst.
    w.now += 3_600_000
    for i in range(burst):
        w.post("member", f"later{i}")
    _refused(w.run(c.PostMessage("member", G, "x")), Code.FLOOD)


def test_keyword_filters_match_normalized_whole_words_and_phrases() -> None:
    w = seeded()
    w.ok(c.SetFilters("admin", G, _rules(
        (ev.FILTER_KIND_KEYWORD, "Scam", ev.FILTER_ACTION_BLOCK),
        (ev.FILTER_KIND_KEYWORD, "buy  NOW", ev.FILTER_ACTION_BLOCK))))
    assert [rule.pattern for rule in w.info().filters] == ["scam", "buy now"]
    for text in ("total SCAM", "ｓｃａｍ!", "s**ca**m", "Buy\nnow, friends", "> quoted scam"):
        out = _refused(w.run(c.PostMessage("member", G, text)), Code.FILTERED)
        assert out.rule is not None and out.http_status == 422, text
    out = _refused(w.run(c.PostMessage("member", G, "BUY now")), Code.FILTERED)
    assert out.rule is not None and out.rule.pattern == "buy now"
    assert "buy now" in out.message
    for text in ("scammer alert", "buying nowhere", "buy it now"):
        w.now += 2_000
        assert not isinstance(w.run(c.PostMessage("member", G, text)), Refusal), text
    # Staff are not filtered.
    w.post("mod", "scam warning: read the rules")


def test_link_filters_read_links_with_the_parser() -> None:
    w = seeded()
    w.ok(c.SetFilters("admin", G, _rules(
        (ev.FILTER_KIND_LINK_DOMAIN, "Spam.Example", ev.FILTER_ACTION_BLOCK))))
    for text in ("[click](https://spam.example/x)", "see https://www.spam.example.",
                 "<http://a.spam.example>", "go to spam.example/free", "(SPAM.EXAMPLE)"):
        w.now += 2_000
        _refused(w.run(c.PostMessage("member", G, text)), Code.FILTERED)
    for text in ("https://notspam.example", "spam example", "spam.examples.org"):
        w.now += 2_000
        assert not isinstance(w.run(c.PostMessage("member", G, text)), Refusal), text
    w.ok(c.SetFilters("admin", G, _rules(
        (ev.FILTER_KIND_ANY_LINK, "", ev.FILTER_ACTION_BLOCK))))
    for text in ("[x](https://a.example)", "http://b.example/c", "www.c.example"):
        w.now += 2_000
        _refused(w.run(c.PostMessage("member", G, text)), Code.FILTERED)
    # A bare file name is not a link (only a named domain rule reads bare host names).
    w.now += 2_000
    w.post("member", "run node.js on file.txt")
    _refused(w.run(c.SetFilters("admin", G, _rules(
        (ev.FILTER_KIND_ANY_LINK, "x", ev.FILTER_ACTION_BLOCK)))), Code.INVALID)
    _refused(w.run(c.SetFilters("admin", G, _rules(
        (ev.FILTER_KIND_LINK_DOMAIN, "localhost", ev.FILTER_ACTION_BLOCK)))), Code.INVALID)
    _refused(w.run(c.SetFilters("admin", G, _rules(
        (ev.FILTER_KIND_KEYWORD, "!!!", ev.FILTER_ACTION_BLOCK)))), Code.INVALID)
    _refused(w.run(c.SetFilters("admin", G, _rules(
        *[(ev.FILTER_KIND_KEYWORD, f"w{i}", ev.FILTER_ACTION_HOLD) for i in range(101)]))),
        Code.INVALID)


def test_a_hold_rule_keeps_a_message_for_review_then_releases_it_in_order() -> None:
    w = seeded()
    w.ok(c.SetFilters("admin", G, _rules(
        (ev.FILTER_KIND_KEYWORD, "airdrop", ev.FILTER_ACTION_HOLD))))
    facts = w.ok(c.PostMessage("member", G, "free AIRDROP here"))
    assert isinstance(facts[0], ev.MessageHeld) and facts[0].rule.pattern == "airdrop"
    held = facts[0].seq
    assert w.message(held).held and not w.message(held).visible
    # Nobody can react to, reply to or pin a held message; the author cannot edit it.
    _refused(w.run(c.SetReaction("mod", G, held, "👍")), Code.NO_SUCH_MESSAGE)
    _refused(w.run(c.PostMessage("mod", G, "re", reply_to=held)), Code.NO_SUCH_MESSAGE)
    _refused(w.run(c.Pin("owner", G, held)), Code.NO_SUCH_MESSAGE)
    _refused(w.run(c.EditMessage("member", G, held, "edited")), Code.INVALID)
    _refused(w.run(c.DecideHeld("member", G, held, True)), Code.FORBIDDEN)
    decided = w.ok(c.DecideHeld("mod", G, held, True, "fine"))
    assert isinstance(decided[0], ev.HeldMessageDecided)
    released = decided[1]
    assert isinstance(released, ev.MessagePosted)
    assert released.actor_id == "member" and released.released_from == held
    assert released.seq == decided[0].seq + 1 and released.text == "free AIRDROP here"
    assert w.message(released.seq).visible and not w.message(held).visible
    _refused(w.run(c.DecideHeld("mod", G, held, True)), Code.NO_SUCH_MESSAGE)
    # A rejected one stays out of sight.
    w.now += 5_000
    other = w.ok(c.PostMessage("member", G, "airdrop again"))[0].seq  # type: ignore[attr-defined]
    w.ok(c.DecideHeld("admin", G, other, False, "spam"))
    assert w.message(other).rejected and not w.message(other).visible
    # A block rule wins over a hold rule.
    w.ok(c.SetFilters("admin", G, _rules(
        (ev.FILTER_KIND_KEYWORD, "airdrop", ev.FILTER_ACTION_HOLD),
        (ev.FILTER_KIND_KEYWORD, "free", ev.FILTER_ACTION_BLOCK))))
    w.now += 5_000
    _refused(w.run(c.PostMessage("member", G, "free airdrop")), Code.FILTERED)


def test_edits_deletes_reactions_pins_and_reads() -> None:
    w = seeded()
    seq = w.post("member", "helo")
    _refused(w.run(c.EditMessage("target", G, seq, "hello")), Code.NOT_AUTHOR)
    w.ok(c.EditMessage("member", G, seq, "hello"))
    assert w.message(seq).text == "hello" and w.message(seq).edited_at_ms == w.now
    w.ok(c.SetFilters("admin", G, _rules((ev.FILTER_KIND_KEYWORD, "idiot",
                                          ev.FILTER_ACTION_HOLD))))
    _refused(w.run(c.EditMessage("member", G, seq, "you idiot")), Code.FILTERED)
    # Reactions: idempotent, at most three per member per message.
    w.ok(c.SetReaction("target", G, seq, "👍"))
    assert w.run(c.SetReaction("target", G, seq, "👍")) == []
    w.ok(c.SetReaction("target", G, seq, "❤️"))
    w.ok(c.SetReaction("target", G, seq, "👨‍👩‍👧‍👦"))
    _refused(w.run(c.SetReaction("target", G, seq, "🔥")), Code.REACTION_LIMIT)
    _refused(w.run(c.SetReaction("member", G, seq, "ab")), Code.INVALID)
    w.ok(c.RemoveReaction("target", G, seq, "👍"))
    assert w.run(c.RemoveReaction("target", G, seq, "👍")) == []
    w.ok(c.SetReaction("target", G, seq, "🔥"))
    # Pins: idempotent, bounded.
    w.ok(c.Pin("admin", G, seq))
    assert w.run(c.Pin("admin", G, seq)) == []
    assert w.info().pinned == (seq,)
    for i in range(lim.MAX_PINS - 1):
        w.now += 2_000
        w.ok(c.Pin("owner", G, w.post("owner", f"p{i}")))
    w.now += 2_000
    _refused(w.run(c.Pin("owner", G, w.post("owner", "one too many"))), Code.PIN_LIMIT)
    # Deleting a pinned message unpins it; the record keeps a tombstone without the words.
    facts = w.ok(c.DeleteMessage("mod", G, seq, "off topic"))
    assert isinstance(facts[0], ev.MessageDeleted) and facts[0].by == ev.DELETED_BY_MODERATOR
    assert facts[0].author_id == "member" and facts[0].reason == "off topic"
    assert seq not in w.info().pinned and w.message(seq).deleted and w.message(seq).text == ""
    _refused(w.run(c.DeleteMessage("mod", G, seq)), Code.NO_SUCH_MESSAGE)
    _refused(w.run(c.EditMessage("member", G, seq, "back")), Code.NO_SUCH_MESSAGE)
    # Read positions move forward only and never past the end.
    last = w.info().last_seq
    w.ok(c.SetReadPosition("member", G, last))
    assert w.member("member").read_seq == last
    assert w.run(c.SetReadPosition("member", G, last - 5)) == []
    _refused(w.run(c.SetReadPosition("member", G, last + 10)), Code.INVALID)


def test_every_refusal_code_maps_to_a_client_error() -> None:
    assert set(HTTP_STATUS) == set(Code)
    assert all(400 <= status < 500 for status in HTTP_STATUS.values())
    assert HTTP_STATUS[Code.FLOOD] == HTTP_STATUS[Code.SLOW_MODE] == 429
    out = Refusal(Code.MUTED, "muted", until_ms=5).pb()
    assert out.code == "muted" and out.until_ms == 5


def test_a_muted_member_is_told_until_when() -> None:
    w = World()
    w = seeded()
    out = _refused(w.run(c.PostMessage("muted", G, "let me talk")), Code.MUTED)
    assert out.until_ms == w.member("muted").muted_until_ms > w.now
    # After the mute runs out they post again without anyone lifting it.
    assert not isinstance(w.run(c.PostMessage("muted", G, "back"), at=out.until_ms), Refusal)


def test_mentions_notify_the_members_among_them_when_posted_or_released() -> None:
    # Whom a message notifies is decided with it: members, not the author, not a banned or
    # never-joined user (a private group's existence is not a stranger's to learn).
    w = seeded()
    mentions = ("mod", "nonmember", "member", "banned", "target", "mod")
    facts = w.ok(c.PostMessage("member", G, "gm", mentions=mentions))
    posted = facts[0]
    assert isinstance(posted, ev.MessagePosted)
    assert list(posted.mentions) == ["mod", "nonmember", "member", "banned", "target"]
    assert list(posted.notified) == ["mod", "target"]
    # A held message notifies nobody; its release is decided again: who left meanwhile is not
    # told, who joined meanwhile is.
    w.ok(c.SetFilters("admin", G, _rules(
        (ev.FILTER_KIND_KEYWORD, "airdrop", ev.FILTER_ACTION_HOLD))))
    held = w.ok(c.PostMessage("member", G, "airdrop soon", mentions=("mod", "target", "late")))
    assert isinstance(held[0], ev.MessageHeld)
    w.ok(c.Kick("owner", G, "target"))
    w.ok(c.AddMember("owner", G, "late"))
    released = w.ok(c.DecideHeld("mod", G, held[0].seq, True))[1]
    assert isinstance(released, ev.MessagePosted)
    assert list(released.notified) == ["mod", "late"]
    # The releasing moderator mentioned by the author is told too; the author never is.
    own = w.ok(c.PostMessage("member", G, "airdrop again", mentions=("member", "mod")))
    again = w.ok(c.DecideHeld("mod", G, own[0].seq, True))[1]
    assert isinstance(again, ev.MessagePosted) and list(again.notified) == ["mod"]
