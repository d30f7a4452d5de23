"""Settings under random environment values: valid settings or one line naming the variable.

Operators meet configuration errors at start-up (`python -m dashapp`, `python -m
collectors`), where anything but `ConfigError` is a traceback instead of the line
that says which variable to fix.
"""

from __future__ import annotations

import json
import os
from unittest import mock

from hypothesis import example, given, settings
from hypothesis import strategies as st

from dashapp.config import ConfigError, Settings, env_name, load_settings
from tests.reliability.conftest import examples
from tests.reliability.strategies import edge_ints, edge_text, json_values

FIELDS = sorted(Settings.model_fields)
VALID_DATASET = {"name": "orders", "prefix": "sales/orders/", "glue_job": "sales-orders-ingest"}


def _dataset_like() -> st.SearchStrategy[dict]:
    value = st.one_of(edge_text(), json_values(2))
    return st.fixed_dictionaries(
        {},
        optional={
            "name": st.one_of(st.just("orders"), value),
            "prefix": st.one_of(st.just("a/"), value),
            "glue_job": st.one_of(st.just("job"), value),
            "formats": st.one_of(st.just(["csv"]), value),
            "expected_interval_s": st.one_of(edge_ints(), value),
            "bucket": value,
        },
    )


def _policy_like() -> st.SearchStrategy[dict]:
    value = st.one_of(edge_text(), json_values(2), edge_ints())
    patterns = st.lists(
        st.one_of(edge_text(), st.sampled_from(["(", "a{4294967296}", "(?<", "*"])), max_size=3
    )
    return st.dictionaries(
        edge_text(),
        st.fixed_dictionaries(
            {}, optional={"attempts": value, "backoff_s": value, "transient_patterns": patterns}
        ),
        max_size=2,
    )


def env_values() -> st.SearchStrategy[str]:
    return st.one_of(
        edge_text(),
        edge_ints().map(str),
        st.lists(_dataset_like(), max_size=2).map(json.dumps),
        _policy_like().map(json.dumps),
        json_values(4).map(json.dumps),
        st.sampled_from(
            ["@/nonexistent/datasets.json", "@/", "@", "@/proc/self/mem", "[" * 100_000]
        ),
    )


def _printable_env(value: str) -> bool:
    return "\x00" not in value and not any(0xD800 <= ord(c) <= 0xDFFF for c in value)


@settings(max_examples=examples(400))
@given(field=st.sampled_from(FIELDS), value=env_values().filter(_printable_env))
@example(field="datasets", value="@/nonexistent/datasets.json")
@example(field="datasets", value="@/")
@example(field="datasets", value="[" * 100_000)
@example(field="retry_policies", value='{"x": {"transient_patterns": ["a{4294967296}"]}}')
@example(field="retry_policies", value="{" * 100_000)
@example(field="database_url", value="postgresql://u@h:99999999999999999999/db")
def test_a_bad_value_is_one_line_naming_its_variable(field: str, value: str) -> None:
    variable = env_name(field)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SMD_")}
    environment["SMD_DATASETS"] = json.dumps([VALID_DATASET])
    environment.pop("DATABASE_URL", None)
    environment[variable] = value
    with mock.patch.dict(os.environ, environment, clear=True):
        try:
            load_settings(_env_file=None)
        except ConfigError as e:
            message = str(e)
            assert "\n" not in message, message
            assert message.startswith(f"configuration error: {variable}"), (variable, message)


def sign_in_environments() -> st.SearchStrategy[dict[str, str]]:
    """The sign-in settings together, as an operator fills them in (and gets them wrong)."""
    arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/smd/50dc6c49"
    text = st.one_of(edge_text(), edge_ints().map(str))
    values = {
        "SMD_AUTH_MODE": st.sampled_from(["none", "oidc", "proxy", "OIDC", ""]),
        "SMD_HOST": st.sampled_from(["127.0.0.1", "0.0.0.0", "::1", "localhost", "example"]),
        "SMD_TRUSTED_PROXIES": st.one_of(
            st.sampled_from(
                [
                    "10.0.0.0/16",
                    "10.0.0.0/33",
                    "::/200",
                    "10.0.0.1, ,fe80::1%eth0",
                    '["10.0.0.0/8"]',
                    "[1]",
                    '"x"',
                    "",
                ]
            ),
            text,
        ),
        "SMD_AUTH_ALB_SIGNER_ARNS": st.one_of(st.sampled_from([arn, f"{arn},x", "[]"]), text),
        "SMD_AUTH_ALB_ISSUER": text,
        "SMD_AUTH_ALB_CLIENT_ID": text,
        "SMD_AUTH_ROLE_MAP": st.one_of(
            st.sampled_from(['{"admin": "ops"}', '{"root": ["x"]}', '{"admin": [1]}', "[]"]),
            json_values(3).map(json.dumps),
        ),
        "SMD_AUTH_OIDC_DISCOVERY_URL": st.one_of(
            st.sampled_from(["https://idp.example/.well-known/openid-configuration", "ftp://x"]),
            text,
        ),
        "SMD_AUTH_OIDC_CLIENT_ID": text,
        "SMD_AUTH_SESSION_IDLE_S": edge_ints().map(str),
        "SMD_AUTH_SESSION_MAX_S": edge_ints().map(str),
        "SMD_PUBLIC_URL": st.one_of(st.sampled_from(["https://dash.example", "dash"]), text),
    }
    return st.fixed_dictionaries({}, optional=values).map(
        lambda env: {k: v for k, v in env.items() if _printable_env(v)}
    )


@settings(max_examples=examples(300))
@given(env=sign_in_environments())
@example(env={"SMD_AUTH_MODE": "proxy", "SMD_HOST": "0.0.0.0"})
@example(env={"SMD_AUTH_MODE": "proxy", "SMD_TRUSTED_PROXIES": "10.0.0.0/33"})
@example(env={"SMD_AUTH_SESSION_IDLE_S": "7200", "SMD_AUTH_SESSION_MAX_S": "3600"})
def test_sign_in_settings_together_are_valid_or_one_line(env: dict[str, str]) -> None:
    """Each sign-in setting parses on its own, then the mode checks them together: any
    mix is a configuration or one line naming the variable to fix."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("SMD_")}
    environment["SMD_DATASETS"] = json.dumps([VALID_DATASET])
    environment.pop("DATABASE_URL", None)
    environment.update(env)
    with mock.patch.dict(os.environ, environment, clear=True):
        try:
            loaded = load_settings(_env_file=None)
        except ConfigError as e:
            message = str(e)
            assert "\n" not in message and message.startswith("configuration error: SMD_"), message
            return
    if loaded.auth_mode == "proxy":
        assert loaded.trusted_proxies  # never a proxy mode that believes anybody
    if loaded.auth_mode == "none":
        assert loaded.host in ("127.0.0.1", "::1", "localhost")
