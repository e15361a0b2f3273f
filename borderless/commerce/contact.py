"""Finding the email address or phone number a customer typed, however they typed it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from borderless.commerce.models import is_valid_email, is_valid_phone, normalize_phone

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# An international number: + or 00, then 7 to 15 digits with optional spaces, dots or dashes.
_PHONE = re.compile(r"(?:\+|\b00)\d[\d\s().\-]{5,20}\d")


@dataclass(frozen=True)
class Contact:
    email: str | None = None
    phone: str | None = None

    @property
    def value(self) -> str | None:
        return self.email or self.phone


def find_contact(text: str) -> Contact:
    """The first email address in ``text``, else the first international phone number."""
    email = _EMAIL.search(text)
    if email and is_valid_email(email.group(0)):
        return Contact(email=email.group(0).strip().lower())
    phone = _PHONE.search(text)
    if phone and is_valid_phone(phone.group(0)):
        return Contact(phone="+" + normalize_phone(phone.group(0)))
    return Contact()
