"""The privacy guard refuses valid personnummer and lets ordinary numbers through."""

import pytest
from django.core.exceptions import ValidationError

from units.validators import find_personal_identity_numbers, validate_no_personal_data


@pytest.mark.parametrize(
    "text",
    [
        "Eleven 811218-9876 har berättat",  # with separator
        "8112189876",  # without
        "198112189876",  # with century
        "19811218-9876",
        "pnr 811218+9876",  # over 100 years old
        "samordningsnummer 811278-9873",  # day + 60
        "samordningsnummer 198112789873",  # 12 digits, day + 60
        "(20100229-2389) i texten",  # 29 Feb: accepted for any year, refusing errs on the safe side
        # Pasted from word processors, mail and web pages: other dashes and spaces.
        "Elev 19121212\u20131212 behöver stöd",  # en dash
        "Elev 19121212\u20141212",  # em dash
        "Elev 19121212\u20111212",  # non-breaking hyphen
        "Elev 19121212\u22121212",  # minus sign
        "Elev 121212\u00a01212",  # no-break space
        "Elev 121212\u202f1212",  # narrow no-break space
        "Elev 121212 - 1212",  # spaces around the hyphen
        "Elev 121212/1212",
        "Elev 121212.1212",
        "Elev 121212_1212",
        "Elev 121212-\u00ad1212",  # an invisible soft hyphen inside
        "Elev \uff11\uff12\uff11\uff12\uff11\uff12-\uff11\uff12\uff11\uff12",  # full-width
        "Eleven 121212  1212 oroar oss",  # two spaces
        "Eleven 121212\n1212",  # a line break
        "Eleven 121212--1212",
        "Eleven 121212\u2063-1212",  # an invisible separator
        "Eleven 121212\u034f-1212",  # the combining grapheme joiner
        "Eleven 121212\u200e-1212",  # a left-to-right mark
    ],
)
def test_valid_personnummer_is_refused(text: str) -> None:
    with pytest.raises(ValidationError) as caught:
        validate_no_personal_data(text)
    assert caught.value.code == "personal_data"
    assert "personnummer" in caught.value.messages[0]


@pytest.mark.parametrize(
    "text",
    [
        "811218-9875",  # wrong check digit
        "Ring 08-580 285 00 eller 020-100 200",  # phone numbers
        "Mötet hölls 2026-11-27 med 14 deltagare",
        "811318-9876",  # month 13: not a date
        "19811278-9874",  # samordningsnummer with the wrong check digit
        "Summa 12 345 678,90 kr",
        "Vi har 1234567890 kronor",  # not a date, fails Luhn anyway
        "Ring 08\u2013580 285 00",  # a phone number with an en dash
        "Mötet 2026\u201311\u201327 kl. 13.00",  # a date with en dashes
        "121212\u20131213",  # a dash, but the wrong check digit
        "",
    ],
)
def test_ordinary_numbers_pass(text: str) -> None:
    validate_no_personal_data(text)
    assert find_personal_identity_numbers(text) == []
