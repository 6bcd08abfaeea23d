"""Search terms: words for spaced scripts, bigrams for Chinese, one normal form for both."""

from __future__ import annotations

from kith.core.search_terms import MAX_TERMS, customer_terms, query_terms, text_terms


def test_chinese_without_spaces_is_cut_into_overlapping_pairs() -> None:
    assert text_terms("我要退款谢谢") == ["我要", "要退", "退款", "款谢", "谢谢", "谢"]
    assert set(query_terms("退款")) <= set(text_terms("我要退款谢谢"))
    assert query_terms("款谢谢") == ["款谢", "谢谢"]  # a query never asks for a run's end
    assert not set(query_terms("退货")) <= set(text_terms("我要退款谢谢"))


def test_latin_words_are_lower_cased_and_normalised() -> None:
    # Full-width letters and digits (NFKC) and case (casefold) meet their plain forms.
    assert text_terms("Where is my ＯＲＤＥＲ １２３?") == ["where", "is", "my", "order", "123"]
    assert query_terms("order 123") == ["order", "123"]


def test_mixed_text_keeps_both_kinds_of_term() -> None:
    terms = text_terms("iPhone15退款please")
    assert terms == ["iphone15", "退款", "款", "please"]


def test_names_are_found_by_one_chinese_character_too() -> None:
    terms = customer_terms("韩梅梅", ["Mei@Example.com"], ["+86 138 0013 8000"])
    for wanted in ("韩", "梅", "韩梅", "梅梅", "mei@example.com", "mei", "example"):
        assert wanted in terms
    assert "13800138000" in terms and "8613800138000" in terms  # national and international
    assert query_terms("+86 138-0013-8000") == ["8613800138000"]


def test_operators_and_patterns_are_just_text() -> None:
    assert query_terms('{"$gt": ""}') == ["gt"]
    assert query_terms(".*") == []
    assert query_terms("   ") == []


def test_a_long_text_keeps_a_bounded_number_of_terms() -> None:
    assert len(text_terms(" ".join(f"w{i}" for i in range(5000)))) == MAX_TERMS


def test_latin_and_greek_are_found_without_their_accents() -> None:
    text = "Crème brûlée at the CAFÉ in São Paulo, Ἀθῆναι, q\u0301uiz"
    assert text_terms(text) == [
        *("creme", "brulee", "at", "the", "cafe", "in", "sao", "paulo", "αθηναι", "quiz")
    ]
    assert query_terms("Cafe SAO paulo") == query_terms("café são paulo")
    assert query_terms("café são paulo") == ["cafe", "sao", "paulo"]
    assert "jose" in customer_terms("José Núñez") and "nunez" in customer_terms("José Núñez")


def test_marks_that_change_a_letter_elsewhere_are_kept() -> None:
    assert text_terms("がき 한국어 йод") == ["がき", "き", "한국", "국어", "어", "йод"]
    assert query_terms("かき") != query_terms("がき")
