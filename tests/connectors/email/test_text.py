"""Quote stripping and subject matching: the cases that must NOT be cut, and the prefixes."""

from __future__ import annotations

import pytest

from kith.connectors.email.text import decode_header_value, normalize_subject, strip_reply


@pytest.mark.parametrize(
    "text",
    [
        "On Monday we received the parcel, but it was empty.",
        "From: the warehouse, I guess? It arrived broken.",
        "Price went from 10 -- to 12, why?",
    ],
)
def test_ordinary_sentences_that_look_like_quote_headers_are_kept(text: str) -> None:
    assert strip_reply(text) == text


def test_a_mail_that_is_only_a_quote_keeps_its_text() -> None:
    assert strip_reply("> just forwarding this\n> to you") == "> just forwarding this\n> to you"


def test_qq_mail_original_message_marker_is_cut() -> None:
    text = "收到，谢谢\n\n------------------ 原始邮件 ------------------\n发件人: 客服\n内容"
    assert strip_reply(text) == "收到，谢谢"


@pytest.mark.parametrize(
    "subject",
    [
        "Re: Order 7",
        "RE: re: Order 7",
        "Fwd: Order 7",
        "AW: Order 7",
        "回复：Order 7",
        "转发: Order 7",
        "Re[2]: order 7",
    ],
)
def test_reply_and_forward_prefixes_do_not_split_a_thread(subject: str) -> None:
    assert normalize_subject(subject) == "order 7"


def test_raw_utf8_headers_and_several_encoded_words_decode() -> None:
    raw_utf8 = "订单".encode().decode("ascii", errors="surrogateescape")
    assert decode_header_value(raw_utf8) == "订单"
    assert decode_header_value("=?UTF-8?B?6K6i?= =?GBK?B?taU=?=") == "订单"
