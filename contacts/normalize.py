"""Emails and phone numbers as Kith stores them, so one person's address is one string.

Emails go through email-validator (syntax only: no DNS lookup on Kith's event loop) and are
kept lower-case, as the channels store them. Phone numbers go through phonenumbers (Google's
libphonenumber) and are kept in E.164 (`+8613800000000`); a number written without its country
code is read in the workspace's default region (`KITH_PHONE_REGION`, CN unless set).
"""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email


def normalize_email(raw: str) -> str:
    """The address in canonical form; ValueError saying what is wrong with it."""
    try:
        checked = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return checked.normalized.lower()


def normalize_phone(raw: str, region: str) -> str:
    """The number in E.164; ValueError when it is not a possible number of its country."""
    try:
        number = phonenumbers.parse(raw.strip(), region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(f"not a phone number: {exc}") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number for its country")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
