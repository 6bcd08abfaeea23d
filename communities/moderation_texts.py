"""What moderation says: the warning posted in the group (in the member's language when Kith
knows it, else the community's; the managers' own text where they wrote one for it), its
appeal button, and the notes moderators read in the inbox."""

from __future__ import annotations

from datetime import datetime

from kith.communities.audit import AuditRow
from kith.communities.settings import Action, Moderation
from kith.core.models import Button

APPEAL_PAYLOAD = "mod-appeal:"  # + the audit row's id (callback data: at most 64 bytes)

WARN = {
    "en": "{name}: {reason}. {done} If we got it wrong, press Appeal.",
    "zh": "{name}：{reason}。{done}如有误会，请点击“申诉”。",
}
REASONS = {
    "en": {
        "words": "that word is not allowed here",
        "links": "new members may not post links yet",
        "media": "new members may not post media yet",
        "repeat": "the same message from several members looks like spam",
        "flood": "too many messages too fast",
    },
    "zh": {
        "words": "本群禁止该词语",
        "links": "新成员暂不能发送链接",
        "media": "新成员暂不能发送图片或文件",
        "repeat": "多人重复发送同一消息，疑似广告",
        "flood": "发言过于频繁",
    },
}
DONE = {
    "en": {
        Action.delete: "Message deleted.",
        Action.mute: "Muted until {until}.",
        Action.ban: "Banned.",
    },
    "zh": {
        Action.delete: "消息已删除。",
        Action.mute: "禁言至 {until}。",
        Action.ban: "已移出本群。",
    },
}
APPEAL_LABEL = {"en": "Appeal", "zh": "申诉"}


def warn_language(rules: Moderation, member: str | None = None) -> str:
    """The warning's language: as welcomes choose (`kith.communities.texts.pick`), the
    managers' own text in the member's language or the community's, else Kith's in either,
    else English."""
    wanted = [language for language in (member, rules.language) if language]
    for language in wanted:
        if rules.warn_texts.get(language):
            return language
    return next((language for language in wanted if language in WARN), "en")


def warn_text(
    rules: Moderation,
    name: str | None,
    rule: str,
    done: list[Action],
    until: datetime | None,
    language: str | None = None,
) -> str:
    """`language`: the member's, when known."""
    chosen = warn_language(rules, language)
    lang = chosen if chosen in WARN else "en"  # reasons and actions: Kith's own words
    template = rules.warn_texts.get(chosen) or WARN[lang]
    when = f"{until:%Y-%m-%d %H:%M} UTC" if until else ""
    said = " ".join(DONE[lang][a].replace("{until}", when) for a in done if a in DONE[lang])
    return (
        template.replace("{name}", name or ("member" if lang == "en" else "成员"))
        .replace("{reason}", REASONS[lang].get(rule, rule))
        .replace("{done}", said)
        .replace("  ", " ")
        .strip()
    )


def appeal_button(rules: Moderation, audit_id: str, language: str | None = None) -> Button:
    lang = warn_language(rules, language)
    label = APPEAL_LABEL.get(lang, APPEAL_LABEL["en"])
    return Button(label=label, payload=APPEAL_PAYLOAD + audit_id)


def report_text(
    name: str | None,
    sender: str,
    rule: str,
    detail: str | None,
    row: AuditRow,
    done: list[Action],
) -> str:
    what = f"{rule} ({detail})" if detail else rule
    actions = ", ".join(a.value for a in done) or "none"
    return (
        f"Moderation: {name or sender} (user {sender}) broke the rule {what}: "
        f"“{row.excerpt}”. Actions: {actions}. Audit row {row.id}."
    )


def appeal_note(row: AuditRow, text: str, *, liftable: bool = True) -> str:
    said = f": “{text}”" if text else ""
    then = (
        f"lift it with POST /api/v1/communities/{row.community_id}/audit/{row.id}/lift"
        if liftable
        else f"a {row.action} has nothing to lift; answer the member if it was a mistake"
    )
    return (
        f"Appeal from {row.member_name or row.platform_user_id} (user {row.platform_user_id}) "
        f"against {row.action} ({row.rule}) of {row.at:%Y-%m-%d %H:%M} UTC{said}. "
        f"Audit row {row.id}: {then}."
    )


APPEAL_ANSWER = {
    "en": "Your appeal has reached the moderators.",
    "zh": "您的申诉已提交给管理员。",
}
NOTHING_TO_APPEAL = {
    "en": "There is no moderation action of the last 30 days to appeal.",
    "zh": "最近 30 天内没有可申诉的处理记录。",
}
