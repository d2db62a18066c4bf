"""The privacy guard for free text: this system never holds data about individuals at risk.

A Swedish personal identity number (personnummer, or the samordningsnummer variant with day+60)
is recognised with or without century and separator, and only when its Luhn check digit is right,
so that ordinary numbers (phone numbers, dates, counts) pass.
"""

import datetime as dt
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _

# The separator as people type or paste it: a hyphen (or two), plus (over 100 years old), a
# space, slash, dot or underscore, with a space around it allowed. Text pasted from word
# processors and mail brings dashes other than ASCII's (_DASHES), any kind of space and line
# break (all read as one space) and invisible characters (_INVISIBLE, taken out).
_PNR = re.compile(r"(?<!\d)(?:19|20)?(\d{6})(?: ?[-+/._]{1,2} ?| )?(\d{4})(?!\d)")
_DASHES = str.maketrans(
    dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-")
)
_SPACES = re.compile(r"\s+")
# Unicode's format characters (category Cf: soft hyphen, zero-width and joining characters,
# bidirectional marks, invisible operators, the byte order mark) and the combining grapheme
# joiner: none shows, so none may hide a number.
_INVISIBLE = re.compile(
    "[\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb]"
)

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
    plain = _INVISIBLE.sub("", unicodedata.normalize("NFKC", text))
    plain = _SPACES.sub(" ", plain.translate(_DASHES))
    for match in _PNR.finditer(plain):
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
