"""The sensors' interval: 30 s unless BANK_ASSETS_SENSOR_INTERVAL_SECONDS says otherwise (the
tests' deployments evaluate them every 5 s, the daemon's floor)."""

import os

import pytest

from bank_assets.settings import ConfigurationError, Settings


def test_the_sensor_interval_is_30_seconds_unless_set():
    assert Settings.from_env({}).sensor_interval_seconds == 30
    assert (
        Settings.from_env({"BANK_ASSETS_SENSOR_INTERVAL_SECONDS": ""}).sensor_interval_seconds == 30
    )
    env = {"BANK_ASSETS_SENSOR_INTERVAL_SECONDS": "5"}
    assert Settings.from_env(env).sensor_interval_seconds == 5
    for wrong in ("0", "5s", "-1"):
        with pytest.raises(ConfigurationError, match="is not a positive whole number"):
            Settings.from_env({"BANK_ASSETS_SENSOR_INTERVAL_SECONDS": wrong})


def test_the_landing_and_failure_sensors_take_it():
    from bank_assets.defs.alerts import failure_alerts
    from bank_assets.defs.automation import landing_sensor

    expected = Settings.from_env(dict(os.environ)).sensor_interval_seconds
    assert landing_sensor.minimum_interval_seconds == expected
    assert failure_alerts.minimum_interval_seconds == expected
