"""Kith's outbound message as Slack renders it: mrkdwn text, image blocks, Block Kit buttons.

Plain text goes as `text` alone; images and buttons need blocks, and then `text` stays as
the notification fallback. Files that are not images become links.
"""

from __future__ import annotations

from typing import Any

from kith.core.models import Attachment, Message

SECTION_MAX = 3000  # Slack's limit on one section block's text
BLOCKS_MAX = 50
BUTTON_TEXT_MAX = 75


def escape(text: str) -> str:
    """Slack reads `&`, `<` and `>` as markup; Slack's docs ask for these three escaped."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(attachment: Attachment) -> str:
    label = escape(attachment.name or attachment.kind)
    if attachment.url:
        return f"<{attachment.url}|{label.replace('|', '¦')}>"
    return label


def _sections(text: str) -> list[dict[str, Any]]:
    chunks = [text[i : i + SECTION_MAX] for i in range(0, len(text), SECTION_MAX)]
    return [{"type": "section", "text": {"type": "mrkdwn", "text": c}} for c in chunks]


def _buttons(message: Message) -> dict[str, Any]:
    elements = []
    for index, button in enumerate(message.buttons):
        element: dict[str, Any] = {
            "type": "button",
            "action_id": f"kith-{index}",
            "text": {"type": "plain_text", "text": button.label[:BUTTON_TEXT_MAX], "emoji": True},
        }
        if button.url:
            element["url"] = button.url
        if button.payload or not button.url:
            element["value"] = button.payload or button.label
        elements.append(element)
    return {"type": "actions", "elements": elements}


def render(message: Message) -> tuple[str, list[dict[str, Any]] | None]:
    """`(text, blocks)` for chat.postMessage; blocks are None when text says it all."""
    images = [a for a in message.attachments if a.kind == "image" and a.url]
    others = [a for a in message.attachments if a not in images]
    lines = [escape(message.text)] if message.text else []
    lines += [_link(a) for a in others]
    text = "\n".join(lines)
    if not images and not message.buttons:
        return text, None
    blocks = _sections(text) if text else []
    blocks += [
        {"type": "image", "image_url": a.url, "alt_text": (a.name or "image")[:2000]}
        for a in images
    ]
    if message.buttons:
        blocks.append(_buttons(message))
    fallback = text or ", ".join(a.name or "image" for a in images) or "New message"
    if len(blocks) > BLOCKS_MAX:  # keep the buttons, which come last
        blocks = blocks[: BLOCKS_MAX - 1] + blocks[-1:]
    return fallback, blocks
