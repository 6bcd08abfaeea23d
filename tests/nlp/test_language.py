"""Language detection: script rules plus lingua for Latin/Cyrillic/Arabic text."""

from __future__ import annotations

import pytest

from kith.nlp.language import detect_language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hello, how are you today?", "en"),
        ("@united thanks for nothing, lost my bag again", "en"),
        ("ok", "en"),
        ("我很喜欢这个产品，质量很好", "zh"),
        ("這家餐廳的服務很好", "zh"),
        ("これは日本語の文章です", "ja"),
        ("안녕하세요 반갑습니다", "ko"),
        ("Привет, как у тебя дела?", "ru"),
        ("¿Dónde está la biblioteca, por favor?", "es"),
        ("Je voudrais un café, s'il vous plaît", "fr"),
        ("Ich habe heute leider keine Zeit", "de"),
        ("Γειά σου, τι κάνεις;", "el"),
        ("这个app很好用 love it", "zh"),
        ("", "und"),
        ("   ", "und"),
        ("😀👍🎉", "und"),
        ("12345 !!! ???", "und"),
        ("\x00\x01\x02\x03\x04\x05\xff", "und"),
    ],
)
def test_detect(text: str, expected: str) -> None:
    assert detect_language(text) == expected


def test_never_raises_on_odd_input() -> None:
    for odd in ["\ud800 broken surrogate", "a" * 50_000, "ｆｕｌｌ", None, b"bytes", 42]:
        assert isinstance(detect_language(odd), str)  # type: ignore[arg-type]
