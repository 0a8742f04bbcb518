"""Card numbers (PANs) in free text: the one definition of what is one, how to find and mask it.

Decision (issue 13): no raw card number is stored anywhere the pipeline writes. They are masked
at landing: when a landing file becomes raw Parquet (`lake_source._LandingReader.read`), every
text field and `_raw_line` has each card number masked to its first 6 and last 4 digits
(`mask_table`), so raw, staged, curated and quarantine Parquet, PostgreSQL and the Dagster event
log only ever see masked numbers. The staged tables' fatal `no_card_numbers` check
(`model/quality.py`) stays as a guard, samples of failing rows are masked whatever the rule
(`quality.json_safe`), and `bank-assets scan-cards` looks for raw numbers in the lake and the
warehouse, all with `find` below.

What counts as a card number:
  - digits in groups separated by any run of non-alphanumeric characters (spaces, double
    spaces, dots, dashes, slashes, tabs, no-break spaces, JSON \\uXXXX escapes...), the whole run
    glued to letters or not ("card:4539148803436467x");
  - 13 to 19 digits made of whole groups of such a run: a compact run of 20+ digits (an IBAN's
    BBAN) is not one, but "ref 12, 4539 1488 0343 6467" holds one (the last four groups);
  - Luhn-valid, and starting like a payment card (ISO/IEC 7812 major industry identifier 3-6,
    or Mastercard's 2221-2720). Why the prefix: ids glued to letters are everywhere in the
    sources (TX2026112000000001, S20261120000001: 16 and 14 digits starting with the year) and
    one in ten would pass Luhn;
  - not part of a valid IBAN (mod-97; BE68539007547034 holds 14 digits starting with 6), and
    no digit of a decimal number (one dot between two digit runs: 413.45678912345, a float in
    the Dagster event log, is not a card split in two; 4539.1488.0343.6467 is one), and no
    digit of a hexadecimal digest (16+ hex characters, letters among them) or a UUID: the
    pipeline's record_hash (16 hex digits) and Dagster's run ids hold 13+ digit runs often
    enough to matter on a million rows.

Speed: `PREFILTER` is a regular expression every value holding a card number matches (RE2,
Rust regex, PostgreSQL and Python alike), so whole columns are screened vectorized (pyarrow,
polars, SQL) and only the few candidates go through `find`.
"""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bank_assets.model.iban import IBAN_LENGTHS, is_valid_iban

MIN_DIGITS, MAX_DIGITS = 13, 19
KEEP_FIRST, KEEP_LAST = 6, 4
MASK = "*"

_SEP = r"(?:\\u[0-9A-Fa-f]{4}|[^0-9A-Za-z])"  # one separator character (or a JSON escape)
# A candidate: at the start of a digit group, a payment-card first digit, then 12 more digits
# with only separators between them. Every card number `find` reports matches it.
PREFILTER = (
    rf"(?:^|[^0-9]|\\u[0-9A-Fa-f]{{4}})"
    rf"(?:[3-6](?:{_SEP}*[0-9]){{12}}|2{_SEP}*[2-7](?:{_SEP}*[0-9]){{11}})"
)
_CHAIN = re.compile(rf"[0-9]+(?:{_SEP}+[0-9]+)*")
_GROUP = re.compile(r"\\u[0-9A-Fa-f]{4}|[0-9]+")  # escapes are skipped, not digits
_PREFILTER = re.compile(PREFILTER)
_DECIMAL = re.compile(r"(?<![0-9.])[0-9]+\.[0-9]+(?!\.?[0-9])")
_HEX = re.compile(
    r"(?<![0-9A-Za-z])(?:(?=[0-9]*[a-fA-F])[0-9a-fA-F]{16,}"
    r"|[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12})"
    r"(?![0-9A-Za-z])"
)
_IBAN = re.compile(r"(?<![A-Za-z0-9])([A-Z]{2})[0-9]{2}(?: ?[A-Z0-9])+")


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        total += d if i % 2 == 0 else (d * 2 - 9 if d > 4 else d * 2)
    return total % 10 == 0


def is_card_number(digits: str) -> bool:
    """13-19 digits, a payment card's prefix, Luhn-valid."""
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS or not digits.isdigit():
        return False
    first = digits[0]
    if first not in "3456" and not (first == "2" and 2221 <= int(digits[:4]) <= 2720):
        return False
    return luhn_valid(digits)


def _not_card_spans(text: str) -> list[tuple[int, int]]:
    """Where valid IBANs (compact or grouped by single spaces), decimal numbers and hex digests
    or UUIDs are: no card number has a digit there."""
    spans = [m.span() for m in _DECIMAL.finditer(text)] + [m.span() for m in _HEX.finditer(text)]
    for m in _IBAN.finditer(text):
        length = IBAN_LENGTHS.get(m.group(1))
        if length is None:
            continue
        chars = [i for i in range(m.start(), m.end()) if text[i] != " "]
        if len(chars) >= length and is_valid_iban("".join(text[i] for i in chars[:length])):
            spans.append((m.start(), chars[length - 1] + 1))
    return spans


def find(text: str | None) -> list[tuple[int, int]]:
    """The (start, end) spans of the card numbers in `text`, left to right."""
    if not text or not _PREFILTER.search(text):
        return []
    excluded = None
    out = []
    for chain in _CHAIN.finditer(text):
        groups = _digit_groups(text, chain.start(), chain.end())
        i = 0
        while i < len(groups):
            digits = ""
            for j in range(i, len(groups)):
                digits += text[groups[j][0] : groups[j][1]]
                if len(digits) > MAX_DIGITS:
                    break
                if len(digits) >= MIN_DIGITS and is_card_number(digits):
                    start, end = groups[i][0], groups[j][1]
                    if excluded is None:
                        excluded = _not_card_spans(text)
                    if not any(s < end and start < e for s, e in excluded):
                        out.append((start, end))
                        i = j
                        break
            i += 1
    return out


def contains_card_number(text: str | None) -> bool:
    return bool(find(text))


def _digit_groups(text: str, start: int, end: int) -> list[tuple[int, int]]:
    groups = (g.span() for g in _GROUP.finditer(text, start, end))
    return [(s, e) for s, e in groups if text[s] != "\\"]


def _mask_span(text: str, start: int, end: int) -> str:
    positions = [i for s, e in _digit_groups(text, start, end) for i in range(s, e)]
    hidden = set(positions[KEEP_FIRST : len(positions) - KEEP_LAST])
    return "".join(MASK if i in hidden else text[i] for i in range(start, end))


def mask(text: str | None) -> tuple[str | None, int]:
    """`text` with each card number masked to its first 6 and last 4 digits (the others become
    '*', separators are kept: "4539 14** **** 6467"), and how many were masked. Masking again
    until nothing is found: masked digits next to other numbers can never form a new one."""
    count = 0
    while spans := find(text):
        count += len(spans)
        for start, end in reversed(spans):
            text = text[:start] + _mask_span(text, start, end) + text[end:]
    return text, count


def found_masked(text: str | None) -> list[str]:
    """Each card number in `text`, masked (what a report may show of it)."""
    return [_mask_span(text, start, end) for start, end in find(text)]


def masked(text: str | None) -> str | None:
    return mask(text)[0]


def mask_deep(value):
    """Every string inside `value` (dicts, lists: a JSON document) masked."""
    if isinstance(value, str):
        return masked(value)
    if isinstance(value, dict):
        return {k: mask_deep(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [mask_deep(v) for v in value]
    return value


def candidates(values: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Positions of the values that may hold a card number (vectorized prefilter)."""
    hit = pc.match_substring_regex(values, PREFILTER)
    return np.flatnonzero(hit.fill_null(False).to_numpy(zero_copy_only=False))


def mask_column(values: pa.Array | pa.ChunkedArray) -> tuple[pa.Array | pa.ChunkedArray, int]:
    """A string column with its card numbers masked, and how many; unchanged when none."""
    where = candidates(values)
    if not len(where):
        return values, 0
    fixed = [mask(v) for v in values.take(pa.array(where)).to_pylist()]
    count = sum(n for _, n in fixed)
    if not count:
        return values, 0
    flags = np.zeros(len(values), dtype=bool)
    flags[where] = True
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    replaced = pc.replace_with_mask(values, pa.array(flags), pa.array([v for v, _ in fixed]))
    return replaced, count


def mask_table(table: pa.Table) -> tuple[pa.Table, int]:
    """Every string column of `table` with its card numbers masked, and how many were."""
    total = 0
    for i, field in enumerate(table.schema):
        if pa.types.is_string(field.type) or pa.types.is_large_string(field.type):
            column, count = mask_column(table.column(i))
            if count:
                table = table.set_column(i, field, column)
                total += count
    return table, total
