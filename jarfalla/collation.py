"""Swedish alphabetical order, the same in the database and in Python.

Names that people see are listed in Swedish order: case does not matter, a-z come first, then å,
ä and ö as letters of their own (æ sorts with ä, ø and œ with ö, ü with y), and other accented
letters sort with the plain letter (é with e). Among names that are the same but for accents or
case, the plain and the lower-case one come first; callers break the last ties by primary key, so
pagination is deterministic.

Neither the database's default nor Python's code points give that order: PostgreSQL databases
created with the C collation (CI, many servers) put every lower-case name after every upper-case
one and Ä before Å; SQLite compares bytes. So:

- in the database, ``swedish(field)`` orders by the column under the ICU collation ``sv-x-icu``
  on PostgreSQL (present whenever PostgreSQL is built with ICU, as in the official image) and
  under a collation of the same name that this module registers on every SQLite connection
  (backed by ``swedish_key``). The collation is applied in the query, not to the columns, so no
  migration is needed and equality and uniqueness stay as they are.
- in Python, ``swedish_key(name)`` is the sort key of a list built in memory. It mirrors ICU's
  Swedish rules level by level (letters, then accents, then case, then the code points, as
  PostgreSQL breaks ICU's ties) for the Latin letters, digits and punctuation that names hold;
  tests/test_collation.py checks it against PostgreSQL on a list of such names.
"""

from __future__ import annotations

import sqlite3
import unicodedata
from functools import lru_cache
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.db.models import Expression, F
from django.db.models.functions import Collate

COLLATION = "sv-x-icu"

# ICU puts spaces, punctuation and symbols before digits and digits before letters; these are the
# common ones in ICU's own order. Others follow them, by code point.
_PUNCTUATION = " _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~$"
_PUNCTUATION_WEIGHT = {char: index for index, char in enumerate(_PUNCTUATION)}
_OTHER_SYMBOL = 0x100
_DIGIT = 0x200000
_LATIN = 0x300000
_OTHER_LETTER = 0x400000
_Z = _LATIN + ord("z")

# Letters whose place in Swedish is not their base letter's: (primary weights, accent rank).
_SPECIAL: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "å": ((_Z + 1,), ()),
    "ä": ((_Z + 2,), ()),
    "æ": ((_Z + 2,), (1,)),
    "ö": ((_Z + 3,), ()),
    "ø": ((_Z + 3,), (1,)),
    "œ": ((_Z + 3,), (2,)),
    "ü": ((_LATIN + ord("y"),), (1,)),
    "đ": ((_LATIN + ord("d"),), (1,)),
    "ð": ((_LATIN + ord("d"),), (2,)),
    "ł": ((_LATIN + ord("l"),), (1,)),
    "þ": ((_LATIN + ord("t"), _LATIN + ord("h")), (1,)),
}

# The order of accents among letters that are otherwise equal (é before è before ê ...), ICU's.
_ACCENTS = (
    "\u0301\u0300\u0306\u0302\u030c\u030a\u0308\u030b\u0303\u0307"
    "\u0338\u0327\u0304\u0335\u0323\u0331\u0328"
)
_ACCENT_RANK = {mark: rank for rank, mark in enumerate(_ACCENTS, start=1)}


def _primary(char: str) -> int:
    if "a" <= char <= "z":
        return _LATIN + ord(char)
    if char in _PUNCTUATION_WEIGHT:
        return _PUNCTUATION_WEIGHT[char]
    if char.isdigit():
        return _DIGIT + ord(char)
    if char.isalpha():
        return _OTHER_LETTER + ord(char)
    return _OTHER_SYMBOL + ord(char)


def _weight(value: int) -> str:
    # Two code points per weight, so that comparing the strings compares the weights in order.
    return chr(value >> 16) + chr(value & 0xFFFF)


@lru_cache(maxsize=4096)
def _letter(char: str) -> tuple[str, str, str]:
    """(primary, accents, case) of one character, each a string that compares as ICU's weights
    at that level; a character may stand for more than one letter (ß is ss)."""
    folded = char.casefold()
    upper = "1" if folded != char and len(folded) == 1 else "0"
    primary, accents, case = [], [], []
    for letter in folded:
        special = _SPECIAL.get(letter)
        if special is not None:
            weights, rank = special
        else:
            decomposed = unicodedata.normalize("NFD", letter)
            weights = (_primary(decomposed[0]),)
            rank = tuple(_ACCENT_RANK.get(mark, len(_ACCENTS) + 1) for mark in decomposed[1:])
        for weight in weights:
            primary.append(_weight(weight))
            # Each letter's accents end with a 0, so that "no accent" comes before any.
            accents.append("".join(chr(r + 1) for r in rank) + "\0")
            case.append(upper)
    return "".join(primary), "".join(accents), "".join(case)


@lru_cache(maxsize=65536)
def swedish_key(name: str) -> tuple[str, str, str, str]:
    """The sort key of ``name`` in Swedish alphabetical order: the same order as
    ``swedish(field)`` gives in the database. Sort by ``(swedish_key(name), pk)``.

    Level by level, as ICU compares: the letters (primary), their accents, their case, and last
    the code points (PostgreSQL's tie-break for names ICU finds equal)."""
    letters = [_letter(char) for char in unicodedata.normalize("NFC", name)]
    return (
        "".join(primary for primary, _accents, _case in letters),
        "".join(accents for _primary, accents, _case in letters),
        "".join(case for _primary, _accents, case in letters),
        name,
    )


def swedish(field: str | Expression) -> Collate:
    """``field`` in Swedish alphabetical order, for ``order_by``: ``order_by(swedish("name"),
    "pk")``, or ``swedish("name").desc()``."""
    return Collate(F(field) if isinstance(field, str) else field, COLLATION)


def _compare(left: str, right: str) -> int:
    a, b = swedish_key(left), swedish_key(right)
    return (a > b) - (a < b)


def _register_on_sqlite(sender: Any, connection: BaseDatabaseWrapper, **kwargs: Any) -> None:
    # SQLite has no Swedish collation; this one gives the order ICU's gives on PostgreSQL.
    if connection.vendor == "sqlite":
        raw: sqlite3.Connection = connection.connection  # type: ignore[assignment]
        raw.create_collation(COLLATION, _compare)


connection_created.connect(_register_on_sqlite, dispatch_uid="jarfalla.collation.sqlite")
