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
