"""The lake: where landing files, raw, staged, quarantine and curated Parquet live.

One URL decides where: `s3://bucket/prefix` (MinIO, AWS) or a local directory. Layout:

    landing/<table>/year=YYYY/month=MM/day=DD/part-NNNNN.<csv|jsonl>   (source systems)
    landing/manifests/YYYY-MM-DD.json                                  (marks a day complete)
    <zone>/<table>/year=YYYY/month=MM/day=DD/part-*.parquet            (zone: raw, staged, ...)

All file access goes through `pyarrow.fs`, so the same code runs against S3 and a local disk, on
the driver and on Spark executors (see `lake_source`).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlparse

import pyarrow.fs as pafs

ZONES = ("landing", "raw", "staged", "quarantine", "curated")


class LakeError(RuntimeError):
    """A lake path is missing or unreadable; the message says which and what to do."""


class ManifestError(LakeError):
    """A landing manifest cannot be used (not JSON, not a manifest, a table missing from it)."""


class LandingFileError(LakeError):
    """A day's landed files disagree with its manifest (a file missing, unlisted or empty)."""


@dataclass(frozen=True)
class LakeConfig:
    """Where the lake is and how to reach it; small and picklable, shipped to executors."""

    url: str
    s3_endpoint: str | None = None
    s3_access_key: str | None = None
    s3_secret_key: str | None = None
    s3_region: str = "us-east-1"

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> LakeConfig:
        return cls(**json.loads(text))

    @property
    def is_s3(self) -> bool:
        return self.url.startswith("s3://")

    def filesystem(self) -> tuple[pafs.FileSystem, str]:
        """The pyarrow filesystem and the base path of the lake inside it."""
        if self.is_s3:
            parsed = urlparse(self.url)
            kwargs: dict = {"region": self.s3_region}
            if self.s3_endpoint:
                endpoint = urlparse(self.s3_endpoint)
                kwargs["endpoint_override"] = endpoint.netloc or endpoint.path
                kwargs["scheme"] = endpoint.scheme or "http"
            if self.s3_access_key:
                kwargs["access_key"] = self.s3_access_key
                kwargs["secret_key"] = self.s3_secret_key
            base = (parsed.netloc + "/" + parsed.path.strip("/")).rstrip("/")
            return pafs.S3FileSystem(**kwargs), base
        return pafs.LocalFileSystem(), str(self.url).rstrip("/")


def day_path(zone: str, table: str, day: date) -> str:
    """Relative Hive-style directory of one table's day in one zone."""
    if zone not in ZONES:
        raise ValueError(f"unknown lake zone {zone!r}; expected one of {ZONES}")
    return f"{zone}/{table}/year={day:%Y}/month={day:%m}/day={day:%d}"


def manifest_path(day: date) -> str:
    return f"landing/manifests/{day:%Y-%m-%d}.json"


def parse_manifest(relative: str, data: bytes) -> dict:
    """A manifest's content, checked to be a JSON object with a "tables" object; else a
    ManifestError naming the file (and the line of a JSON syntax error)."""
    redeliver = "re-deliver the manifest (the source system writes it last, once the day landed)"
    try:
        manifest = json.loads(data)
    except UnicodeDecodeError as e:
        raise ManifestError(f"{relative}: not UTF-8 ({e}): {redeliver}") from e
    except json.JSONDecodeError as e:
        raise ManifestError(
            f"{relative}: line {e.lineno} column {e.colno}: not valid JSON ({e.msg}): {redeliver}"
        ) from e
    if not isinstance(manifest, dict) or not isinstance(manifest.get("tables"), dict):
        raise ManifestError(
            f'{relative}: line 1: not a landing manifest (a JSON object with a "tables" '
            f"object is expected): {redeliver}"
        )
    return manifest


class Lake:
    """Driver-side access to the lake: paths, listings, manifests."""

    def __init__(self, config: LakeConfig):
        self.config = config
        self.fs, self.base = config.filesystem()

    def uri(self, relative: str) -> str:
        """A user-facing location (s3://... or an absolute path)."""
        return f"{self.config.url.rstrip('/')}/{relative}"

    def abspath(self, relative: str) -> str:
        return f"{self.base}/{relative}"

    def relative(self, path: str) -> str:
        """The lake-relative form of a path `files` returned (what the data sources take)."""
        return path.removeprefix(f"{self.base}/")

    def files(self, relative_dir: str, suffix: str = "") -> list[pafs.FileInfo]:
        """Files directly under a lake directory, sorted by path; [] when it does not exist."""
        selector = pafs.FileSelector(self.abspath(relative_dir), allow_not_found=True)
        infos = self.fs.get_file_info(selector)
        return sorted(
            (i for i in infos if i.type == pafs.FileType.File and i.path.endswith(suffix)),
            key=lambda i: i.path,
        )

    def ensure_ready(self) -> None:
        """Create the lake root (local) or check the bucket exists (S3) with a clear error."""
        if not self.config.is_s3:
            self.fs.create_dir(self.base, recursive=True)
            return
        bucket = self.base.split("/", 1)[0]
        info = self.fs.get_file_info(bucket)
        if info.type == pafs.FileType.NotFound:
            raise LakeError(
                f"S3 bucket {bucket!r} does not exist at {self.config.s3_endpoint or 'AWS'}: "
                "create it (docker-compose does this for MinIO) or fix BANK_ASSETS_LAKE_URL"
            )

    def write_bytes(self, relative: str, data: bytes) -> None:
        path = self.abspath(relative)
        if not self.config.is_s3:
            self.fs.create_dir(path.rsplit("/", 1)[0], recursive=True)
        with self.fs.open_output_stream(path) as out:
            out.write(data)

    def read_bytes(self, relative: str) -> bytes:
        with self.fs.open_input_stream(self.abspath(relative)) as f:
            return f.read()

    def exists(self, relative: str) -> bool:
        return self.fs.get_file_info(self.abspath(relative)).type != pafs.FileType.NotFound

    def delete_dir_contents(self, relative_dir: str) -> None:
        if self.exists(relative_dir):
            self.fs.delete_dir_contents(self.abspath(relative_dir), missing_dir_ok=True)

    def read_manifest(self, day: date) -> dict:
        """The landing manifest of a day; a clear error when the day has not landed (yet)."""
        relative = manifest_path(day)
        if not self.exists(relative):
            raise LakeError(
                f"day {day} has not landed: no manifest at {self.uri(relative)}. "
                f"Land it first, e.g. `bank-assets simulate --date {day}`."
            )
        return parse_manifest(relative, self.read_bytes(relative))

    def manifest_table(self, day: date, table: str) -> dict:
        """A table's entry in the day's manifest, checked: {"rows": n, "files": [{"path": ...,
        "rows": n}, ...]}; a ManifestError naming the manifest when it is missing or wrong."""
        relative = manifest_path(day)
        entry = self.read_manifest(day)["tables"].get(table)
        files = entry.get("files") if isinstance(entry, dict) else None
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("rows"), int)
            or not isinstance(files, list)
            or not all(isinstance(f, dict) and isinstance(f.get("path"), str) for f in files)
        ):
            raise ManifestError(
                f'{relative}: table {table!r} has no valid entry ({{"rows": <count>, "files": '
                f'[{{"path": ...}}, ...]}} expected, found {json.dumps(entry)[:200]}): '
                "re-deliver the manifest listing the table's files"
            )
        return entry

    def manifest_days(self) -> list[date]:
        """Days whose manifest is present (complete landing days), oldest first."""
        return sorted(
            date.fromisoformat(info.base_name.removesuffix(".json"))
            for info in self.files("landing/manifests", ".json")
        )
