"""The chain's contact export (CSV) read into contacts: every problem named by its line, nothing half-loaded."""

from __future__ import annotations

from pathlib import Path

from services.notifier.domain.messages import Contact
from shared import phones
from shared.csv_rows import CsvRowError, iana_time_zone, last_per_key, read_rows

CONTACT_COLUMNS = ("member_id", "phone", "email", "wechat_openid", "app_user_id", "locale", "time_zone")


class ContactFileError(ValueError):
    """The file cannot be loaded; the message names the line. Nothing was loaded."""


def contacts_from_csv(text: str, default_region: str) -> list[Contact]:
    def phone_problem(value: str) -> str | None:
        try:
            phones.e164(value, default_region)
        except phones.InvalidPhone as exc:
            return str(exc)
        return None

    def email_problem(value: str) -> str | None:
        local, at, domain = value.partition("@")
        return None if at and local and "." in domain and " " not in value else f"{value!r} is not an email address"

    try:
        rows = read_rows(
            text,
            CONTACT_COLUMNS,
            required=("member_id",),
            checks={"phone": phone_problem, "email": email_problem, "time_zone": iana_time_zone},
        )
    except CsvRowError as exc:
        raise ContactFileError(str(exc)) from None
    return [
        Contact(
            member_id=row.values["member_id"],
            phone=phones.e164(row.values["phone"], default_region) if row.values["phone"] else None,
            email=row.values["email"] or None,
            wechat_openid=row.values["wechat_openid"] or None,
            app_user_id=row.values["app_user_id"] or None,
            locale=row.values["locale"] or None,
            time_zone=row.values["time_zone"] or None,
        )
        for row in last_per_key(rows, "member_id")
    ]


def read_contacts_file(path: Path, default_region: str) -> list[Contact]:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ContactFileError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    return contacts_from_csv(text, default_region)
