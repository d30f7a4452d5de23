"""The network guard the browser tests rely on must itself catch what it claims to."""

from __future__ import annotations

import pytest

from tests.browser.conftest import Traffic


def test_other_origins_are_flagged_and_own_origin_is_not() -> None:
    traffic = Traffic(origin="http://127.0.0.1:8050")
    traffic.requests += [
        "http://127.0.0.1:8050/assets/vendor/bootstrap/css/bootstrap.min.css",
        "data:font/woff2;base64,AAAA",
        "https://cdn.jsdelivr.net/npm/bootstrap@5.3.9/dist/css/bootstrap.min.css",
        "http://127.0.0.1:9999/other-port",
        "http://localhost:8050/same-port-other-host",
    ]
    assert traffic.off_origin() == traffic.requests[2:]
    with pytest.raises(AssertionError, match="requests outside"):
        traffic.assert_clean()


def test_http_errors_and_script_errors_fail_the_check() -> None:
    failing = Traffic(origin="http://127.0.0.1:8050", http_errors=["500 /_dash-update-component"])
    with pytest.raises(AssertionError, match="failed requests"):
        failing.assert_clean()
    throwing = Traffic(origin="http://127.0.0.1:8050", page_errors=["TypeError: x is undefined"])
    with pytest.raises(AssertionError, match="JavaScript errors"):
        throwing.assert_clean()
    Traffic(origin="http://127.0.0.1:8050", requests=["http://127.0.0.1:8050/"]).assert_clean()
