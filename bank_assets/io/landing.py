"""Whole-file checks of a landing day against its manifest, run on the driver.

The manifest (written last by the source system) is the contract: it lists the day's files of
each table and their rows. A day is refused, naming each file and what to do, when
  - a listed file is not there (it never landed),
  - a file is there but not listed (unknown data: refused rather than ignored, since nobody
    can say whether it belongs to the day; a half-written redelivery looks just like this),
  - a file has no records although the manifest lists rows for it (cut short), or belongs to
    a full daily snapshot (a master: clients, accounts...), which is never empty; a
    transactions or event file with only a header is a quiet day when the manifest says 0.
The listing and zero-byte checks run before the Spark job (they need only the listing); the
no-records check uses the row counts the landing tasks return.
"""

from __future__ import annotations

from bank_assets.io.lake import LandingFileError

# Landing files larger than this are parsed by several Spark tasks, one per byte range of this
# size (io/spark/lake_source.py; BANK_ASSETS_LANDING_SPLIT_MB). A 1,000,000-posting day lands
# 4 CSV files of 52 MB and masters of 17-21 MB: one task each; a bank 10x larger gets splits.
SPLIT_BYTES = 64 << 20


def listed_rows(entry: dict) -> dict[str, int | None]:
    """Each listed file's rows (the table's rows when it has a single file without a count)."""
    files = entry["files"]
    rows = {f["path"]: f.get("rows") for f in files}
    if len(files) == 1 and rows[files[0]["path"]] is None:
        rows[files[0]["path"]] = entry["rows"]
    return rows


def check_listing(
    landed: dict[str, int], entry: dict, manifest: str, table: str, snapshot: bool
) -> None:
    """`landed`: the files in the table's landing day directory (lake-relative path -> bytes)."""
    listed = listed_rows(entry)
    problems = [
        f"{path}: listed in {manifest} but not landed: re-deliver the file (or a manifest "
        "without it)"
        for path in sorted(set(listed) - set(landed))
    ]
    problems += [
        f"{path}: landed but not listed in {manifest}: a file the manifest does not list is "
        "unknown data, so the day is refused; add it to the manifest (re-deliver the manifest) "
        "or remove the file"
        for path in sorted(set(landed) - set(listed))
    ]
    problems += [
        _empty(path, 1, "is empty (0 bytes)", listed[path], manifest, table, snapshot)
        for path, size in sorted(landed.items())
        if path in listed and size == 0 and (snapshot or (listed[path] or 0) > 0)
    ]
    if problems:
        raise LandingFileError("\n".join(problems))


def check_records(
    rows: dict[str, int], entry: dict, manifest: str, table: str, snapshot: bool, first_line: int
) -> None:
    """`rows`: the records landed from each file; `first_line`: where records start (2 after a
    CSV header, 1 in JSON lines)."""
    listed = listed_rows(entry)
    problems = [
        _empty(path, first_line, "has no records", listed.get(path), manifest, table, snapshot)
        for path, count in sorted(rows.items())
        if count == 0 and (snapshot or (listed.get(path) or 0) > 0)
    ]
    if problems:
        raise LandingFileError("\n".join(problems))


def _empty(
    path: str, line: int, what: str, rows: int | None, manifest: str, table: str, snapshot: bool
) -> str:
    if snapshot:
        return (
            f"{path}: line {line}: the file {what}, but {table} is a full daily snapshot and "
            f"is never empty: re-deliver the file with the day's {table}"
        )
    return (
        f"{path}: line {line}: the file {what}, but {manifest} lists {rows} rows for it (cut "
        "short?): re-deliver the file"
    )
