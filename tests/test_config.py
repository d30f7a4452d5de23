"""Configuration as operators meet it: documented, validated, one clear line when wrong."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dashapp.cli import settings_table
from dashapp.config import ConfigError, Dataset, Settings, env_name, load_settings

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    # Only the datasets survive from the test environment: production must name its own.
    base = {k: v for k, v in os.environ.items() if not k.startswith("SMD_") or k == "SMD_DATASETS"}
    base.pop("DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "dashapp", *args],
        cwd=ROOT,
        text=True,
        capture_output=True,
        env={**base, **(env or {})},
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "names"),
    [
        ({"SMD_PORT": "eighty"}, "SMD_PORT"),
        ({"SMD_REFRESH_INTERVAL_S": "0"}, "SMD_REFRESH_INTERVAL_S"),
        ({"SMD_RAW_BUCKET": "Not_A_Bucket"}, "SMD_RAW_BUCKET"),
        ({"SMD_DATASETS": "[{"}, "SMD_DATASETS"),
        ({"SMD_DATASETS": '[{"name": "x", "glue_job": "j"}]'}, "SMD_DATASETS[0][prefix]"),
        (
            {"SMD_DATASETS": '[{"name": "Bad Name", "prefix": "a/", "glue_job": "j"}]'},
            "SMD_DATASETS[0][name]",
        ),
        ({"SMD_TRIGGER_MODE": "manual"}, "SMD_TRIGGER_MODE"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"AWS_ENDPOINT_URL": "localhost:5000"}, "AWS_ENDPOINT_URL"),
        ({"SMD_HOST": "0.0.0.0"}, "SMD_HOST"),
        ({"SMD_AUTH_MODE": "saml"}, "SMD_AUTH_MODE"),
        ({"SMD_AUTH_MODE": "oidc"}, "SMD_AUTH_OIDC_DISCOVERY_URL"),
        ({"SMD_AUTH_ROLE_MAP": '{"root": ["x"]}'}, "SMD_AUTH_ROLE_MAP"),
        ({"SMD_AUTH_ROLE_MAP": "[1]"}, "SMD_AUTH_ROLE_MAP"),
        ({"SMD_LOCAL_ROLE": "root"}, "SMD_LOCAL_ROLE"),
        # A shared answer older than a minute would show a wall screen stale data.
        ({"SMD_SHARED_ANSWER_S": "3600"}, "SMD_SHARED_ANSWER_S"),
    ],
)
def test_invalid_configuration_stops_start_up_with_one_line_naming_the_setting(env, names):
    result = run_cli("config", "--json", env=env)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"configuration error: {names}: ")
    assert result.stdout == ""


@pytest.mark.parametrize("command", [["config", "--json"], ["db", "current"], ["web"]])
def test_production_without_datasets_refuses_to_start_instead_of_using_demo_data(command):
    """The dashboard used to fall back to the sandbox's four demo datasets silently."""
    result = run_cli(*command, env={"SMD_DATASETS": ""})
    assert result.returncode == 2
    assert result.stderr.strip().startswith("configuration error: SMD_DATASETS: ")
    assert "SMD_DATASETS is not set" in result.stderr


def test_the_image_requirements_carry_neither_moto_nor_the_sandbox():
    runtime = (ROOT / "requirements.txt").read_text()
    assert "moto" not in runtime
    assert "moto[server]" in (ROOT / "requirements-sandbox.txt").read_text()
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "sandbox" not in dockerfile
    assert "COPY requirements.txt" in dockerfile


def test_config_json_prints_the_effective_configuration_with_secrets_redacted():
    result = run_cli(
        "config",
        "--json",
        env={
            "SMD_SECRET_KEY": "hunter2-very-secret",
            "SMD_LOCAL_ROLE": "viewer",
            "DATABASE_URL": "postgresql://smd:pg-pass@db:5432/smd",
            "SMD_DATASETS": json.dumps(
                [
                    {
                        "name": "sales",
                        "prefix": "in/sales",
                        "glue_job": "ingest",
                        "expected_columns": ["id", "amount"],
                    }
                ]
            ),
        },
    )
    assert result.returncode == 0, result.stderr
    assert "hunter2" not in result.stdout and "pg-pass" not in result.stdout
    data = json.loads(result.stdout)
    assert data["secret_key"] == "**********"
    assert data["database_url"] == "postgresql://smd:***@db:5432/smd"
    assert data["datasets"] == [
        {
            "name": "sales",
            "title": "",
            "description": "",
            "bucket": None,
            "prefix": "in/sales/",
            "glue_job": "ingest",
            "formats": ["csv", "json", "ndjson"],
            "expected_columns": ["id", "amount"],
            "expected_interval_s": None,
        }
    ]
    assert data["local_role"] == "viewer"


def test_defaults_describe_the_sandbox_with_its_four_datasets():
    s = load_settings(_env_file=None)
    assert [d.name for d in s.datasets] == ["orders", "customers", "clickstream", "inventory"]
    assert s.aws_endpoint_url is None and s.auth_mode == "none" and s.host == "127.0.0.1"


def test_datasets_can_come_from_a_file(tmp_path, monkeypatch):
    f = tmp_path / "datasets.json"
    f.write_text(json.dumps([{"name": "a", "prefix": "x/", "glue_job": "j"}]))
    monkeypatch.setenv("SMD_DATASETS", f"@{f}")
    assert [d.name for d in load_settings(_env_file=None).datasets] == ["a"]


def test_duplicate_dataset_names_are_refused(monkeypatch):
    monkeypatch.setenv(
        "SMD_DATASETS",
        json.dumps(
            [
                {"name": "a", "prefix": "x/", "glue_job": "j"},
                {"name": "a", "prefix": "y/", "glue_job": "k"},
            ]
        ),
    )
    with pytest.raises(ConfigError, match="SMD_DATASETS: duplicate dataset name 'a'"):
        load_settings(_env_file=None)


def test_prefixes_are_normalised_and_traversal_refused():
    assert Dataset(name="a", prefix="/in//sales/", glue_job="j").prefix == "in//sales/"
    with pytest.raises(ValueError, match=r"without '\.\.'"):
        Dataset(name="a", prefix="in/../etc", glue_job="j")


def test_every_setting_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    for name, field in Settings.model_fields.items():
        assert field.description, f"{name} has no description"
        assert f"`{env_name(name)}`" in readme, f"README lacks {env_name(name)}"
    assert settings_table() in readme, (
        "README's table differs from `python -m dashapp config --markdown`"
    )


def test_python_m_dashapp_sandbox_hands_every_option_to_the_sandbox(capsys) -> None:
    from dashapp.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["sandbox", "--port", "5999", "--help"])
    assert stopped.value.code == 0
    assert "--port" in capsys.readouterr().out
