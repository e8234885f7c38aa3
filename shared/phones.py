"""Phone numbers in one form everywhere: E.164, so "138 0013 8000" and "+86 138-0013-8000" are one number."""

from __future__ import annotations

import phonenumbers


class InvalidPhone(ValueError):
    pass


def e164(raw_phone: str, default_region: str) -> str:
    """The E.164 form of a phone number; numbers without a country code are read in ``default_region``."""
    try:
        number = phonenumbers.parse(raw_phone, default_region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(f"phone number cannot be parsed: {exc}") from None
    if not phonenumbers.is_possible_number(number):
        raise InvalidPhone("phone number has an impossible length for its region")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
