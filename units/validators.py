"""The privacy guard for free text: this system never holds data about individuals at risk.

A Swedish personal identity number (personnummer, or the samordningsnummer variant with day+60)
is recognised with or without century and separator, and only when its Luhn check digit is right,
so that ordinary numbers (phone numbers, dates, counts) pass.
"""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

_PNR = re.compile(r"(?<!\d)(?:(?:19|20)?(\d{6})[-+ ]?(\d{4}))(?!\d)")

PRIVACY_HELP_TEXT = _(
    "Skriv aldrig namn, personnummer eller andra uppgifter om enskilda barn, familjer eller "
    "utsatta personer här."
)


def _luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(digits):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return total % 10 == 0


def _plausible_date(yymmdd: str) -> bool:
    month, day = int(yymmdd[2:4]), int(yymmdd[4:6])
    if day > 60:  # samordningsnummer
        day -= 60
    try:
        dt.date(2000, month, day)  # a leap year, so 29 February passes
    except ValueError:
        return False
    return True


def find_personal_identity_numbers(text: str) -> list[str]:
    found = []
    for match in _PNR.finditer(text):
        date_part, serial = match.group(1), match.group(2)
        if _plausible_date(date_part) and _luhn_ok(date_part + serial):
            found.append(match.group(0))
    return found


@deconstructible
class NoPersonalData:
    """Model/form validator: refuses text that contains a valid personnummer. On a JSONField
    it looks at every string inside (routine sections are free text kept as JSON)."""

    message = _(
        "Texten ser ut att innehålla ett personnummer. Uppgifter om enskilda personer får inte "
        "sparas här; ta bort numret och beskriv utan att peka ut någon."
    )
    code = "personal_data"

    def __call__(self, value: object) -> None:
        if isinstance(value, str) and find_personal_identity_numbers(value):
            raise ValidationError(self.message, code=self.code)
        if isinstance(value, dict):
            for item in value.values():
                self(item)
        elif isinstance(value, list | tuple):
            for item in value:
                self(item)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NoPersonalData)

    def __hash__(self) -> int:
        return hash(self.code)


validate_no_personal_data = NoPersonalData()
