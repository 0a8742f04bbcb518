"""docker-compose.yml cannot be started here (no Docker engine), so it is checked against the
code: services, pinned images, ports and the variables the code actually reads."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bank_assets.lib.lake import LakeConfig
from bank_assets.resources import PROJECT_ROOT, Settings

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
RESOURCES_SOURCE = (PROJECT_ROOT / "bank_assets" / "resources.py").read_text()


def bank_env() -> dict[str, str]:
    return SERVICES["code"]["environment"]


def test_the_stack_has_its_services():
    assert set(SERVICES) == {
        "minio",
        "minio-init",
        "postgres",
        "code",
        "dagster-webserver",
        "dagster-daemon",
    }


def test_images_are_pinned():
    for name, service in SERVICES.items():
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), name
    assert re.fullmatch(
        r"minio/minio:RELEASE\.\d{4}-\d{2}-\d{2}T[\d-]+Z", SERVICES["minio"]["image"]
    )
    assert SERVICES["code"]["build"]["dockerfile"] == "docker/Dockerfile"
    assert (PROJECT_ROOT / "docker" / "Dockerfile").exists()
    assert "openjdk-17" in (PROJECT_ROOT / "docker" / "Dockerfile").read_text()


def test_ports():
    assert "3000:3000" in SERVICES["dagster-webserver"]["ports"]
    assert {"9000:9000", "9001:9001"} <= set(SERVICES["minio"]["ports"])
    assert "5432:5432" in SERVICES["postgres"]["ports"]


def test_every_variable_is_one_the_code_reads():
    """Each BANK_ASSETS_* variable in compose is read by Settings (and documented there)."""
    read_by_code = set(re.findall(r'env\.get\("(BANK_ASSETS_\w+)"\)', RESOURCES_SOURCE))
    documented = set(re.findall(r"^  (BANK_ASSETS_\w+)", RESOURCES_SOURCE, re.MULTILINE))
    used = {k for k in bank_env() if k.startswith("BANK_ASSETS_")}
    assert used <= read_by_code and read_by_code <= documented
    for service in ("code", "dagster-webserver", "dagster-daemon"):
        assert SERVICES[service]["environment"] == bank_env()


def test_compose_environment_configures_minio_and_postgres():
    env = {
        k: v.replace("${POSTGRES_PASSWORD}", "pw")
        .replace("${MINIO_ROOT_USER:?set MINIO_ROOT_USER in .env}", "user")
        .replace("${MINIO_ROOT_PASSWORD:?set MINIO_ROOT_PASSWORD in .env}", "secret")
        .replace("${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}", "pw")
        .replace("${BANK_ASSETS_ALERT_WEBHOOK:-}", "")
        for k, v in bank_env().items()
    }
    assert "${" not in "".join(env.values())
    settings = Settings.from_env(env)
    assert settings.lake_config == LakeConfig(
        url="s3://bank-lake/lake",
        s3_endpoint="http://minio:9000",
        s3_access_key="user",
        s3_secret_key="secret",
        s3_region="us-east-1",
    )
    assert settings.pg_dsn == "postgresql://bank:pw@postgres:5432/bank"
    # The bucket the lake URL names is the one minio-init creates.
    assert "lake/bank-lake" in SERVICES["minio-init"]["entrypoint"]
    # Dagster's instance storage (dagster.yaml) reads DAGSTER_PG_URL; the database exists.
    instance = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    assert instance["storage"]["postgres"]["postgres_url"] == {"env": "DAGSTER_PG_URL"}
    assert env["DAGSTER_PG_URL"].startswith("postgresql+psycopg2://bank:pw@postgres:5432/dagster")
    init = (PROJECT_ROOT / "docker" / "postgres-init.sql").read_text()
    assert "create database dagster" in init


def test_webserver_and_daemon_reach_the_code_location():
    workspace = yaml.safe_load((PROJECT_ROOT / "docker" / "workspace.yaml").read_text())
    grpc = workspace["load_from"][0]["grpc_server"]
    assert grpc["host"] == "code"
    assert f"-p {grpc['port']}" in SERVICES["code"]["command"]
    assert "-m bank_assets.definitions" in SERVICES["code"]["command"]
    for service in ("dagster-webserver", "dagster-daemon"):
        assert "/app/docker/workspace.yaml" in SERVICES[service]["command"]
    assert Path(PROJECT_ROOT / "docker" / "workspace.yaml").exists()
