"""What the survey says, in the customer's language: built-in English and Chinese, each
text overridable per workspace (and other languages added there)."""

from __future__ import annotations

from dataclasses import dataclass

from kith.core.context import Core
from kith.core.languages import customer_language as spoken
from kith.tickets.csat_models import CsatSettings

DEFAULT_LANGUAGE = "en"
STARS = ("★", "★★", "★★★", "★★★★", "★★★★★")


@dataclass(frozen=True)
class Texts:
    question: str
    reason: str
    thanks: str


BUILT_IN = {
    "en": Texts(
        question="Your ticket #{number} is solved. How did we do? Rate us from 1 (poor) to "
        "5 (excellent): tap a star or reply with a number.",
        reason="Sorry we let you down. What could we have done better?",
        thanks="Thank you for your feedback!",
    ),
    "zh": Texts(
        question="您的工单 #{number} 已解决。请为我们的服务打分：1（很差）到 5（很好），"
        "点击星级或直接回复数字。",
        reason="很抱歉没能让您满意。请告诉我们哪里可以做得更好？",
        thanks="感谢您的反馈！",
    ),
}


async def customer_language(
    core: Core, customer_id: str, conversation_id: str, settings: CsatSettings
) -> str:
    """The customer's language (`kith.core.languages`); one without texts falls back to
    English."""
    language = await spoken(core, customer_id, conversation_id)
    if language in BUILT_IN or language in settings.texts:
        return str(language)
    return DEFAULT_LANGUAGE


def texts_for(settings: CsatSettings, language: str, number: int) -> Texts:
    """The workspace's texts where it set them, the built-in ones elsewhere."""
    base = BUILT_IN.get(language, BUILT_IN[DEFAULT_LANGUAGE])
    own = settings.texts.get(language)
    chosen = Texts(
        question=(own and own.question) or base.question,
        reason=(own and own.reason) or base.reason,
        thanks=(own and own.thanks) or base.thanks,
    )
    return Texts(*(t.replace("{number}", str(number)) for t in vars(chosen).values()))
