"""Resident identity numbers (居民身份证号码, GB 11643): 18 characters, 17 digits and a check
character. Digits 1-6 are the region, 7-14 the birth date YYYYMMDD, 15-17 a sequence whose last
digit is odd for men and even for women, and the 18th is the ISO 7064 MOD 11-2 check: 0-9 or X.

The region must be a real one: a code of the administrative-division table GB/T 2260 shipped in
`accounts/data/regions.csv` (its README names the sources and their dates). A number keeps the
region where it was first issued for life, so the rule is: the code was listed, at prefecture or
county level, in ANY year of the table (1980-2024), not only in today's. Abolished codes (崇文区
110103, merged in 2010) stay valid, as they are on real cards; a code never listed (999999, or
330199 under a real prefecture) is refused. We chose the exact historical code over the looser
"province and prefecture exist" test because that test lets any made-up county digits through,
and a table with every year since 1980 already covers every adult's number."""

import csv
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from django.utils.translation import gettext as _

WEIGHTS = tuple(pow(2, 17 - i, 11) for i in range(17))  # 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, ...
CHECK_CHARACTERS = "10X98765432"  # indexed by the weighted sum modulo 11
SHAPE = re.compile(r"[0-9]{17}[0-9X]")
REGIONS_FILE = Path(__file__).resolve().parent / "data" / "regions.csv"


class IdNumberInvalid(ValueError):
    """The number cannot be a resident identity number; the message says why, for a customer."""


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: date
    male: bool
    region: str = ""


@cache
def _regions() -> dict[str, str]:
    """code -> name of every region that can begin a number, read once per process."""
    with REGIONS_FILE.open(encoding="utf-8", newline="") as rows:
        return {row["code"]: row["name"] for row in csv.DictReader(
            line for line in rows if not line.startswith("#"))}


def region_name(code: str) -> str | None:
    """The region's latest name, or None when no number can begin with this code."""
    return _regions().get(code)


def id_number_normalise(raw) -> str:
    """What the customer typed, without surrounding or inner spaces and with x as X."""
    return re.sub(r"\s+", "", str(raw or "")).upper()


def id_number_check_character(first_17: str) -> str:
    return CHECK_CHARACTERS[sum(int(d) * w for d, w in zip(first_17, WEIGHTS, strict=True)) % 11]


def id_number_parse(raw) -> IdNumber:
    """The parts of a well-formed number; `IdNumberInvalid` when it is not one."""
    number = id_number_normalise(raw)
    if not SHAPE.fullmatch(number):
        raise IdNumberInvalid(_("An identity number has 18 characters: 17 digits, then a "
                                "digit or X."))
    if id_number_check_character(number[:17]) != number[17]:
        raise IdNumberInvalid(_("This identity number's last character does not match the "
                                "others; check it for a typing mistake."))
    if region_name(number[:6]) is None:
        raise IdNumberInvalid(_("This identity number begins with %(region)s, which is not the "
                                "code of any county or city of China; check the first six "
                                "digits against your identity card.") % {"region": number[:6]})
    try:
        birth_date = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberInvalid(_("The date of birth inside this identity number is not a real "
                                "date.")) from None
    return IdNumber(number=number, birth_date=birth_date, male=int(number[16]) % 2 == 1,
                    region=number[:6])


def id_number_make(*, region: str, birth_date: date, sequence: int) -> str:
    """A well-formed number (demo data and tests): the odd sequences are men's."""
    first_17 = f"{region}{birth_date:%Y%m%d}{sequence:03d}"
    if not re.fullmatch(r"[0-9]{17}", first_17):
        raise ValueError("The region is 6 digits and the sequence 0-999.")
    if region_name(region) is None:
        raise ValueError(f"{region} is not a region code of GB/T 2260.")
    return first_17 + id_number_check_character(first_17)
