"""Chat text read by the shared Markdown parser (planetkit.markdown): what a reader sees,
which links it holds, and words compared the way filters compare them."""

from __future__ import annotations

from planetkit.markdown import normalized_words, read_chat


def test_visible_text_drops_markup_but_keeps_what_is_shown() -> None:
    chat = read_chat("**b**ad _news_ `code` [label](https://x.example/a)\n> quote")
    assert normalized_words(chat.visible) == ("bad", "news", "code", "label", "quote")
    # Headings and raw HTML are not in the chat subset: they stay literal text. Images are
    # not either: "![img](url)" reads as "!" and a link (so link filters see it).
    chat = read_chat("# not a heading\n\n![img](https://i.example/p.png)\n\n<b>x</b>")
    assert "# not a heading" in chat.visible and "<b>x</b>" in chat.visible
    assert "!img" in chat.visible and chat.links == ("https://i.example/p.png",)


def test_links_come_from_link_tokens_and_bare_urls_once_each() -> None:
    chat = read_chat("[a](https://A.example/x) <http://auto.example> "
                     "see https://bare.example/p. and www.w.example, (ftp://f.example)")
    assert chat.links == ("https://A.example/x", "http://auto.example",
                          "https://bare.example/p", "http://www.w.example", "ftp://f.example")
    assert chat.hosts == ("a.example", "auto.example", "bare.example", "www.w.example",
                          "f.example")
    # Bare host names count for domain rules only; schemes urllib rejects are no links.
    chat = read_chat("spam.example/win node.js e.g. javascript:alert(1) mailto:x@y.example")
    assert chat.links == ()
    assert chat.hosts == ("spam.example", "node.js")


def test_links_inside_code_are_still_links() -> None:
    chat = read_chat("```\nhttps://hidden.example\n```")
    assert chat.links == ("https://hidden.example",)


def test_words_are_nfkc_casefolded_runs_of_letters_and_digits() -> None:
    assert normalized_words("ＳＣＡＭ, Straße! café 100x") == ("scam", "strasse", "café", "100x")
    assert normalized_words("e\u0301") == ("é",)
    assert normalized_words("—!?") == ()
