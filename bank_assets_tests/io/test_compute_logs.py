"""The docker instance's compute logs (docker/dagster.yaml) on a real S3 server (moto on
loopback, in MinIO's place): a run's step output is uploaded where the webserver reads it."""

from __future__ import annotations

import boto3
import dagster as dg
import yaml

from bank_assets.settings import PROJECT_ROOT
from bank_assets_tests.conftest import ACCESS_KEY, SECRET_KEY


@dg.op
def speaks() -> None:
    print("hello from the step")


@dg.job
def speaking():
    speaks()


def test_step_output_lands_in_the_compute_log_bucket(s3_endpoint, tmp_path, monkeypatch):
    logs = yaml.safe_load((PROJECT_ROOT / "docker" / "dagster.yaml").read_text())["compute_logs"]
    config = logs["config"]
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name="us-east-1",
    )
    s3.create_bucket(Bucket=config["bucket"])
    # what docker-compose sets; the staging directory is the container's DAGSTER_HOME
    monkeypatch.setenv(config["endpoint_url"]["env"], s3_endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    config = {**config, "local_dir": str(tmp_path / "staging")}
    overrides = {"compute_logs": {**logs, "config": config}}
    with dg.instance_for_test(overrides=overrides, temp_dir=str(tmp_path)) as instance:
        result = speaking.execute_in_process(instance=instance)
        assert result.success
        manager = instance.compute_log_manager
        assert type(manager).__name__ == logs["class"]
    keys = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket=config["bucket"], Prefix=config["prefix"])["Contents"]
    ]
    out = [k for k in keys if k.endswith(".out")]
    assert out, keys
    body = b"".join(s3.get_object(Bucket=config["bucket"], Key=k)["Body"].read() for k in out)
    assert b"hello from the step" in body
