"""docker-compose.yml cannot be started here (no Docker engine), so it is checked against the
code: services, pinned images, ports and the variables the code actually reads."""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from bank_assets.io.lake import LakeConfig
from bank_assets.io.warehouse import access
from bank_assets.settings import FIRST_DAY, PROJECT_ROOT, Settings, first_day

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
SETTINGS_SOURCE = (PROJECT_ROOT / "bank_assets" / "settings.py").read_text()
DOCKER_INSTANCE = yaml.safe_load((PROJECT_ROOT / "docker" / "dagster.yaml").read_text())
# what the compute log manager reads: its config's env sources, and boto3's credentials
COMPUTE_LOG_VARIABLES = {
    *(v["env"] for v in DOCKER_INSTANCE["compute_logs"]["config"].values() if isinstance(v, dict)),
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
}


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
        "BANK_ASSETS_FIRST_DAY": "",
        "DAGSTER_LOGS_SECRET_KEY": "logsecret",
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
        "spark-master",
        "spark-worker",
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
    # env.get("NAME") or a checked reader's (env, "NAME")
    read_by_code = set(re.findall(r'(?:env\.get\(|\(env, )"(BANK_ASSETS_\w+)"', SETTINGS_SOURCE))
    documented = set(re.findall(r"^  (BANK_ASSETS_\w+)", SETTINGS_SOURCE, re.MULTILINE))
    read_by_code |= set(re.findall(r'env\.get\("(DAGSTER_PG_URL)"\)', SETTINGS_SOURCE))
    documented |= set(re.findall(r"^  (DAGSTER_PG_URL)", SETTINGS_SOURCE, re.MULTILINE))
    used = {k for k in bank_env() if k.startswith("BANK_ASSETS_")}
    assert {"BANK_ASSETS_PG_DSN", "BANK_ASSETS_ANALYST_DSN", "DAGSTER_PG_URL"} <= read_by_code
    assert "BANK_ASSETS_SPARK_EXECUTOR_MEMORY" in read_by_code
    # the partitions the code location defines start where the deployment says
    assert bank_env()["BANK_ASSETS_FIRST_DAY"] == "${BANK_ASSETS_FIRST_DAY:-}"
    assert used <= read_by_code and read_by_code <= documented
    # the webserver and the daemon hold Dagster's instance only (its storage and compute logs):
    # no warehouse, no lake
    for service in ("dagster-webserver", "dagster-daemon"):
        env = SERVICES[service]["environment"]
        assert set(env) == {"DAGSTER_PG_URL", "DAGSTER_HOME", *COMPUTE_LOG_VARIABLES}
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
    assert first_day(env) == FIRST_DAY  # unset in .env: the code's first day
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


def test_the_docker_instance_keeps_compute_logs_on_minio(monkeypatch):
    """docker/dagster.yaml is the top-level instance plus compute logs in a MinIO bucket that
    minio-init creates, with a user of its own; the image installs it; the embedded default keeps
    its compute logs local."""
    from dagster._core.storage.compute_log_manager import ComputeLogManager
    from dagster._serdes.config_class import ConfigurableClassData

    embedded = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    assert "compute_logs" not in embedded
    assert {k: v for k, v in DOCKER_INSTANCE.items() if k != "compute_logs"} == embedded
    logs = DOCKER_INSTANCE["compute_logs"]
    assert (logs["module"], logs["class"]) == (
        "dagster_aws.s3.compute_log_manager",
        "S3ComputeLogManager",
    )
    # every service of the image has the variables the manager reads, with compose's values
    for service in ("code", "dagster-webserver", "dagster-daemon"):
        env = substituted(SERVICES[service]["environment"])
        assert set(env) >= COMPUTE_LOG_VARIABLES, service
        assert env["DAGSTER_HOME"] == "/opt/dagster/home", service
    env = substituted(bank_env())
    assert env["DAGSTER_COMPUTE_LOGS_ENDPOINT"] == env["BANK_ASSETS_S3_ENDPOINT"]  # the MinIO
    # the class imports and takes the config, its env sources resolved as the instance does
    for k in COMPUTE_LOG_VARIABLES:
        monkeypatch.setenv(k, env[k])
    manager = ConfigurableClassData(
        logs["module"], logs["class"], yaml.safe_dump(logs["config"])
    ).rehydrate(ComputeLogManager)
    bucket = logs["config"]["bucket"]
    assert manager._s3_bucket == bucket
    assert manager._s3_session.meta.endpoint_url == "http://minio:9000"
    # minio-init creates the bucket, and the user (boto3's key) whose policy reaches it only
    init = SERVICES["minio-init"]
    entrypoint = init["entrypoint"]
    assert f"mc mb --ignore-existing lake/{bucket}" in entrypoint
    user = env["AWS_ACCESS_KEY_ID"]
    assert f"mc admin user add lake {user} $${{DAGSTER_LOGS_SECRET_KEY}}" in entrypoint
    assert f"--user {user}" in entrypoint
    volume = "./docker/minio-compute-logs-policy.json:/policies/compute-logs-rw.json:ro"
    assert volume in init["volumes"]
    assert "mc admin policy create lake compute-logs-rw /policies/compute-logs-rw.json" in (
        entrypoint
    )
    policy = json.loads((PROJECT_ROOT / "docker" / "minio-compute-logs-policy.json").read_text())
    resources = {r for statement in policy["Statement"] for r in statement["Resource"]}
    assert resources == {f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"}
    variable = "DAGSTER_LOGS_SECRET_KEY"
    assert init["environment"][variable] == f"${{{variable}:?set {variable} in .env}}"
    assert env["AWS_SECRET_ACCESS_KEY"] == "logsecret"
    example = (PROJECT_ROOT / ".env.example").read_text()
    assert re.search(rf"^{variable}=change-me", example, re.MULTILINE)
    # the image's instance file is this one, in DAGSTER_HOME and as the project's dagster.yaml
    dockerfile = (PROJECT_ROOT / "docker" / "Dockerfile").read_text()
    assert "COPY docker/dagster.yaml ./dagster.yaml" in dockerfile
    assert "cp dagster.yaml /opt/dagster/home/dagster.yaml" in dockerfile
    assert "ENV DAGSTER_HOME=/opt/dagster/home" in dockerfile
    copies = re.findall(r"^COPY .*dagster\.yaml.*$", dockerfile, re.MULTILINE)
    assert copies == ["COPY docker/dagster.yaml ./dagster.yaml"]  # the top-level one is not


def test_secrets_are_env_vars_where_the_deployment_sets_them(monkeypatch):
    """With compose's environment the resources take each secret as dg.EnvVar (the UI shows the
    variable's name); with none set (the embedded default) they hold None, for Settings."""
    import dagster as dg

    from bank_assets.defs.resources import resources
    from bank_assets.settings import SECRET_VARIABLES

    def fields() -> dict[str, object]:
        loaded = resources().resources
        return {
            "BANK_ASSETS_PG_DSN": loaded["warehouse"].dsn,
            "BANK_ASSETS_S3_ACCESS_KEY": loaded["lake"].s3_access_key,
            "BANK_ASSETS_S3_SECRET_KEY": loaded["lake"].s3_secret_key,
            "BANK_ASSETS_ALERT_WEBHOOK": loaded["alerts"].webhook_url,
        }

    for name in SECRET_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    assert set(fields()) == set(SECRET_VARIABLES)
    assert set(fields().values()) == {None}
    env = substituted(bank_env())
    env["BANK_ASSETS_ALERT_WEBHOOK"] = "https://hooks.example/alerts"
    for name in SECRET_VARIABLES:
        monkeypatch.setenv(name, env[name])
    for name, value in fields().items():
        assert isinstance(value, dg.EnvVar) and value.env_var_name == name
        assert value.get_value() == env[name]


def test_the_image_installs_the_locked_versions_from_files_that_exist():
    """The image installs what `make test` installs (requirements.lock), and every file it
    copies is in the repository."""
    dockerfile = (PROJECT_ROOT / "docker" / "Dockerfile").read_text()
    assert re.search(r"^RUN pip install [^\n]*-c requirements\.lock", dockerfile, re.MULTILINE)
    sources = [
        word
        for line in re.findall(r"^COPY (.+)$", dockerfile, re.MULTILINE)
        for word in line.split()[:-1]
    ]
    assert "requirements.lock" in sources
    missing = [s for s in sources if not (PROJECT_ROOT / s).exists()]
    assert not missing, f"the Dockerfile copies files that are not in the repository: {missing}"


def test_the_instance_queues_one_run_at_a_time_and_bounds_it(tmp_path):
    """dagster.yaml loads as Dagster reads it (storage swapped for a local one): the run queue
    starts one run at a time and one run per day, a failed asset or check is not retried (only a
    crashed run worker is), and run monitoring ends a run that outlives its maximum runtime."""
    import dagster as dg
    from dagster._core.run_coordinator import QueuedRunCoordinator

    config = yaml.safe_load((PROJECT_ROOT / "dagster.yaml").read_text())
    assert "run_coordinator" not in config  # the `concurrency:` block replaces it
    config["storage"] = {"sqlite": {"base_dir": str(tmp_path / "storage")}}
    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(config))
    with dg.DagsterInstance.from_config(str(tmp_path)) as instance:
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        queue = instance.get_concurrency_config().run_queue_config
        assert queue.max_concurrent_runs == 1
        assert queue.tag_concurrency_limits == [
            {"key": "dagster/partition", "value": {"applyLimitPerUniqueValue": True}, "limit": 1}
        ]
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 1
        assert instance.run_retries_retry_on_asset_or_op_failure is False
        assert instance.run_monitoring_enabled
        # longer than a month's range of 1M-transaction days (~95 s each), bounded all the same
        assert 30 * 95 < instance.run_monitoring_max_runtime_seconds <= 4 * 3600


ONE_MACHINE = yaml.safe_load((PROJECT_ROOT / "docker" / "one-machine.yml").read_text())


def overridden(base: dict, override: dict) -> dict:
    """`override` over `base` as `docker compose -f base -f override` merges them: mappings
    key by key, anything else replaced (the override file uses mappings and profiles only)."""
    out = dict(base)
    for key, value in override.items():
        both = isinstance(value, dict) and isinstance(base.get(key), dict)
        out[key] = overridden(base[key], value) if both else value
    return out


def words(command: str) -> list[str]:
    return command.split()


def test_the_code_location_drives_the_spark_cluster_from_its_image():
    """A standalone master and workers from the code location's image (the workers' executors
    import bank_assets from the installed package), the code location's runs pointed at the
    master, and executors as large as a worker may give."""
    master, worker, code = SERVICES["spark-master"], SERVICES["spark-worker"], SERVICES["code"]
    assert master["image"] == worker["image"] == code["image"]
    assert "build" not in master and "build" not in worker  # the image code builds, no other
    master_cmd = words(master["command"])
    assert master_cmd[:2] == ["spark-class", "org.apache.spark.deploy.master.Master"]
    host = master_cmd[master_cmd.index("--host") + 1]
    port = master_cmd[master_cmd.index("--port") + 1]
    assert host == "spark-master"  # the service's name: what the others resolve
    url = f"spark://{host}:{port}"
    worker_cmd = words(worker["command"])
    assert worker_cmd[:3] == ["spark-class", "org.apache.spark.deploy.worker.Worker", url]
    assert worker["depends_on"]["spark-master"]["condition"] == "service_healthy"
    assert port in " ".join(master["healthcheck"]["test"])
    # the 7077 port stays on the compose network; the UI is published on loopback only
    assert master["ports"] == ["127.0.0.1:8080:8080"]

    env = substituted(bank_env())
    properties = Settings.from_env(env).spark_properties()
    assert properties["spark.master"] == url
    worker_env = worker["environment"]
    assert int(properties["spark.executor.cores"]) <= int(worker_env["SPARK_WORKER_CORES"])
    assert gib(properties["spark.executor.memory"]) <= gib(worker_env["SPARK_WORKER_MEMORY"])
    # the executors reach the driver (the code location's runs) by the service's name
    assert env["SPARK_LOCAL_HOSTNAME"] == "code"
    # the worker writes its executors' files where the image's user may
    assert worker_env["SPARK_WORKER_DIR"].startswith("/tmp/")
    assert "USER bank" in (PROJECT_ROOT / "docker" / "Dockerfile").read_text()


def gib(size: str) -> float:
    number, unit = re.fullmatch(r"(\d+)([mg])", size.lower()).groups()
    return int(number) / (1024 if unit == "m" else 1)


def test_the_workers_reach_minio_and_postgres():
    """Every service is on compose's one default network, and what the executors connect to
    (the lake's S3 endpoint, the loader's PostgreSQL, passed to them with each task) are
    services of it, not the driver's localhost."""
    assert "networks" not in COMPOSE
    assert not [name for name, service in SERVICES.items() if "networks" in service]
    settings = Settings.from_env(substituted(bank_env()))
    assert urlsplit(settings.lake_config.s3_endpoint).hostname in SERVICES
    assert urlsplit(settings.pg_dsn).hostname in SERVICES
    # the workers get no secret of their own: the tasks carry what they need
    assert not set(SERVICES["spark-worker"]["environment"]) & set(bank_env())


def test_one_machine_runs_spark_in_the_code_location_without_the_cluster():
    """docker/one-machine.yml over docker-compose.yml: local[*] in the code location, the
    master and worker in a profile that is not started, nothing else changed."""
    assert set(ONE_MACHINE["services"]) == {"code", "spark-master", "spark-worker"}
    merged = overridden(COMPOSE, ONE_MACHINE)["services"]
    env = substituted(merged["code"]["environment"])
    assert Settings.from_env(env).spark_properties() == {
        "spark.master": "local[*]",
        "spark.driver.memory": "2g",
        "spark.sql.shuffle.partitions": "8",
    }
    assert {k: v for k, v in env.items() if k != "BANK_ASSETS_SPARK_MASTER"} == {
        k: v for k, v in substituted(bank_env()).items() if k != "BANK_ASSETS_SPARK_MASTER"
    }
    started = {name for name, service in merged.items() if not service.get("profiles")}
    assert started == set(SERVICES) - {"spark-master", "spark-worker"}
    # nothing that starts depends on a service that does not
    for name in started:
        assert set(merged[name].get("depends_on", {})) <= started, name
    assert "docker/one-machine.yml" in (PROJECT_ROOT / "docker-compose.yml").read_text()
