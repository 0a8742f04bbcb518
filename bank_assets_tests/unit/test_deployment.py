"""docker-compose.yml cannot be started here (no Docker engine), so it is checked against the
code: services, pinned images, ports and the variables the code actually reads."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bank_assets.io.lake import LakeConfig
from bank_assets.io.warehouse import access
from bank_assets.settings import PROJECT_ROOT, Settings

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
SETTINGS_SOURCE = (PROJECT_ROOT / "bank_assets" / "settings.py").read_text()


def bank_env() -> dict[str, str]:
    return SERVICES["code"]["environment"]


def substituted(env: dict[str, str]) -> dict[str, str]:
    """The environment with .env's variables replaced as docker compose would."""
    values = {
        "POSTGRES_PASSWORD": "superpw",
        "MINIO_ROOT_USER": "user",
        "MINIO_ROOT_PASSWORD": "secret",
        "BANK_LOADER_PASSWORD": "loaderpw",
        "BANK_DAGSTER_PASSWORD": "dagsterpw",
        "BANK_ANALYST_PASSWORD": "analystpw",
        "BANK_ASSETS_ALERT_WEBHOOK": "",
    }
    out = {}
    for k, v in env.items():
        for name, value in values.items():
            v = re.sub(r"\$\{" + name + r"(:\?[^}]*|:-)?\}", value, v)
        out[k] = v
    return out


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
    assert "127.0.0.1:5432:5432" in SERVICES["postgres"]["ports"]  # not on every interface


def test_every_variable_is_one_the_code_reads():
    """Each BANK_ASSETS_* variable in compose is read by Settings (and documented there)."""
    read_by_code = set(re.findall(r'env\.get\("(BANK_ASSETS_\w+)"\)', SETTINGS_SOURCE))
    documented = set(re.findall(r"^  (BANK_ASSETS_\w+)", SETTINGS_SOURCE, re.MULTILINE))
    read_by_code |= set(re.findall(r'env\.get\("(DAGSTER_PG_URL)"\)', SETTINGS_SOURCE))
    documented |= set(re.findall(r"^  (DAGSTER_PG_URL)", SETTINGS_SOURCE, re.MULTILINE))
    used = {k for k in bank_env() if k.startswith("BANK_ASSETS_")}
    assert {"BANK_ASSETS_PG_DSN", "BANK_ASSETS_ANALYST_DSN", "DAGSTER_PG_URL"} <= read_by_code
    assert used <= read_by_code and read_by_code <= documented
    # the webserver and the daemon hold Dagster's instance storage only: no warehouse, no lake
    for service in ("dagster-webserver", "dagster-daemon"):
        env = SERVICES[service]["environment"]
        assert set(env) == {"DAGSTER_PG_URL", "DAGSTER_HOME"}
        assert env["DAGSTER_PG_URL"] == bank_env()["DAGSTER_PG_URL"]


def test_compose_environment_configures_minio_and_postgres():
    env = substituted(bank_env())
    assert "${" not in "".join(env.values())
    settings = Settings.from_env(env)
    assert settings.lake_config == LakeConfig(
        url="s3://bank-lake/lake",
        s3_endpoint="http://minio:9000",
        s3_access_key="user",
        s3_secret_key="secret",
        s3_region="us-east-1",
    )
    assert settings.pg_dsn == "postgresql://bank_loader:loaderpw@postgres:5432/bank"
    assert settings.analyst_dsn() == "postgresql://bank_analyst:analystpw@postgres:5432/bank"
    # The bucket the lake URL names is the one minio-init creates.
    assert "lake/bank-lake" in SERVICES["minio-init"]["entrypoint"]
    # Dagster's instance storage (dagster.yaml) reads DAGSTER_PG_URL; the database exists.
    instance = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    assert instance["storage"]["postgres"]["postgres_url"] == {"env": "DAGSTER_PG_URL"}
    assert settings.dagster_url() == (
        "postgresql+psycopg2://bank_dagster:dagsterpw@postgres:5432/dagster"
    )


def test_postgres_init_creates_the_three_roles_with_passwords_from_the_environment():
    """docker/postgres-init.sh creates the roles the code connects as
    (bank_assets.io.warehouse.access), each with the password compose passes from .env, and
    their databases."""
    init = (PROJECT_ROOT / "docker" / "postgres-init.sh").read_text()
    postgres = SERVICES["postgres"]
    assert (
        "./docker/postgres-init.sh:/docker-entrypoint-initdb.d/10-roles.sh:ro"
        in (postgres["volumes"])
    )
    assert "scram-sha-256" in postgres["environment"]["POSTGRES_INITDB_ARGS"]
    env = substituted(bank_env())
    roles = {
        access.LOADER: ("BANK_LOADER_PASSWORD", "loader_password", env["BANK_ASSETS_PG_DSN"]),
        access.DAGSTER: ("BANK_DAGSTER_PASSWORD", "dagster_password", env["DAGSTER_PG_URL"]),
        access.ANALYST: (
            "BANK_ANALYST_PASSWORD",
            "analyst_password",
            env["BANK_ASSETS_ANALYST_DSN"],
        ),
    }
    example = (PROJECT_ROOT / ".env.example").read_text()
    for role, (variable, psql_var, dsn) in roles.items():
        assert f"create role {role} login password :'{psql_var}';" in init
        assert f'-v {psql_var}="${variable}"' in init
        assert postgres["environment"][variable] == f"${{{variable}:?set {variable} in .env}}"
        assert re.search(rf"^{variable}=change-me", example, re.MULTILINE)  # no real secret
        assert dsn.split("://", 1)[1].startswith(f"{role}:")
    assert "create database bank owner bank_loader;" in init
    assert "create database dagster owner bank_dagster;" in init
    assert "grant connect on database bank to bank_analyst;" in init
    assert "revoke all on database bank from public;" in init
    # the superuser's password is the postgres service's only: no other service gets it
    for name, service in SERVICES.items():
        if name not in ("postgres",):
            assert "POSTGRES_PASSWORD" not in str(service.get("environment", {})), name


def test_webserver_and_daemon_reach_the_code_location():
    workspace = yaml.safe_load((PROJECT_ROOT / "docker" / "workspace.yaml").read_text())
    grpc = workspace["load_from"][0]["grpc_server"]
    assert grpc["host"] == "code"
    assert f"-p {grpc['port']}" in SERVICES["code"]["command"]
    assert "-m bank_assets.definitions" in SERVICES["code"]["command"]
    for service in ("dagster-webserver", "dagster-daemon"):
        assert "/app/docker/workspace.yaml" in SERVICES[service]["command"]
    assert Path(PROJECT_ROOT / "docker" / "workspace.yaml").exists()
