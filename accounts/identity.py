"""Resident identity numbers (居民身份证号码, GB 11643): 18 characters, 17 digits and a check
character. Digits 1-6 are the region, 7-14 the birth date YYYYMMDD, 15-17 a sequence whose last
digit is odd for men and even for women, and the 18th is the ISO 7064 MOD 11-2 check: 0-9 or X."""

import re
from dataclasses import dataclass
from datetime import date

WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, ...
CHECK_CHARACTERS = "10X98765432"  # indexed by the weighted sum modulo 11
SHAPE = re.compile(r"[0-9]{17}[0-9X]")


class IdNumberInvalid(ValueError):
    """The number cannot be a resident identity number; the message says why, for a customer."""


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: date
    male: bool


def id_number_normalise(raw) -> str:
    """What the customer typed, without surrounding or inner spaces and with x as X."""
    return re.sub(r"\s+", "", str(raw or "")).upper()


def id_number_check_character(first_17: str) -> str:
    return CHECK_CHARACTERS[sum(int(d) * w for d, w in zip(first_17, WEIGHTS, strict=True)) % 11]


def id_number_parse(raw) -> IdNumber:
    """The parts of a well-formed number; `IdNumberInvalid` when it is not one."""
    number = id_number_normalise(raw)
    if not SHAPE.fullmatch(number):
        raise IdNumberInvalid("An identity number has 18 characters: 17 digits, then a digit "
                              "or X.")
    if id_number_check_character(number[:17]) != number[17]:
        raise IdNumberInvalid("This identity number's last character does not match the others; "
                              "check it for a typing mistake.")
    try:
        birth_date = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberInvalid("The date of birth inside this identity number is not a real "
                              "date.") from None
    return IdNumber(number=number, birth_date=birth_date, male=int(number[16]) % 2 == 1)


def id_number_make(*, region: str, birth_date: date, sequence: int) -> str:
    """A well-formed number (demo data and tests): the odd sequences are men's."""
    first_17 = f"{region}{birth_date:%Y%m%d}{sequence:03d}"
    if not re.fullmatch(r"[0-9]{17}", first_17):
        raise ValueError("The region is 6 digits and the sequence 0-999.")
    return first_17 + id_number_check_character(first_17)
