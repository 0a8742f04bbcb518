"""IBAN helpers (ISO 13616): check digits by mod-97 and validation."""

from __future__ import annotations

import string

import numpy as np

# Lengths per country for the countries the bank deals with.
IBAN_LENGTHS = {"FR": 27, "DE": 22, "ES": 24, "IT": 27, "NL": 18, "BE": 16, "GB": 22, "CH": 21}


_LETTERS = str.maketrans({c: str(int(c, 36)) for c in string.ascii_uppercase})


def _digits(text: str) -> str:
    """Letters become two-digit numbers (A=10 ... Z=35), as ISO 13616 prescribes."""
    return text.translate(_LETTERS)


def check_digits(country: str, bban: str) -> str:
    return f"{98 - int(_digits(bban + country + '00')) % 97:02d}"


def make_iban(country: str, bban: str) -> str:
    return f"{country}{check_digits(country, bban)}{bban}"


def is_valid_iban(iban: str | None) -> bool:
    if not iban or len(iban) < 5 or not iban.isalnum() or iban != iban.upper():
        return False
    country = iban[:2]
    if IBAN_LENGTHS.get(country, len(iban)) != len(iban):
        return False
    return int(_digits(iban[4:] + iban[:4])) % 97 == 1


def french_ibans(bank: int, branches: np.ndarray, accounts: np.ndarray) -> list[str]:
    """French IBANs, vectorized: FR kk + bank (5) + branch (5) + account (11) + RIB key (2).

    The mod-97 of the long digit string is folded chunk by chunk (Horner) in int64.
    """
    branches = np.asarray(branches, dtype=np.int64)
    accounts = np.asarray(accounts, dtype=np.int64)
    rib = 97 - (89 * bank + 15 * branches + 3 * (accounts % 97)) % 97
    remainder = np.full(len(accounts), bank % 97, dtype=np.int64)
    for value, width in ((branches, 5), (accounts, 11), (rib, 2), (152700, 6)):  # FR00 = 152700
        remainder = (remainder * (10**width % 97) + value) % 97
    check = 98 - remainder
    return [
        f"FR{c:02d}{bank:05d}{b:05d}{a:011d}{k:02d}"
        for c, b, a, k in zip(check.tolist(), branches.tolist(), accounts.tolist(), rib.tolist())
    ]
