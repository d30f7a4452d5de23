"""Fixtures for the sandbox fidelity layer and server tests.

Two ways to reach moto, which must never overlap in time in one process:

* ``aws`` -- in-process ``moto.mock_aws()`` with the fidelity layer applied
  (used by ``test_fidelity_*.py``);
* ``sandbox`` -- a real :class:`SandboxServer` on an ephemeral port, shared by
  the tests of one module (used only by ``test_server.py``).

Entering ``mock_aws`` resets every moto backend (which would wipe a server
running in the same process) and, while active, intercepts boto3 calls meant
for the server.  pytest runs tests one at a time, so the module-scoped server
never coexists with an active ``mock_aws``: the server module does not use
``aws``, and the ``sandbox`` fixture refuses to start while a mock is active
and resets moto's state when it starts, so it does not see leftovers of
earlier in-process tests.  (A subprocess server was the alternative; it was
rejected because the CloudWatch scale test seeds 720k datapoints straight into
the server's store, which needs the same process.)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

from sandbox.fidelity import apply_fidelity
from sandbox.server import SandboxServer

REGION = "us-east-1"
_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
_UNSET = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")


@pytest.fixture(autouse=True, scope="session")
def _dummy_aws_credentials() -> Iterator[None]:
    """Never let a test reach (or sign for) a real AWS account."""
    saved = {k: os.environ.get(k) for k in (*_ENV, *_UNSET)}
    os.environ.update(_ENV)
    for key in _UNSET:
        os.environ.pop(key, None)
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture
def aws() -> Iterator[None]:
    """In-process moto with the fidelity layer applied."""
    apply_fidelity()
    with mock_aws():
        yield


def _mock_active() -> bool:
    from moto.core.models import botocore_stubber

    return bool(getattr(botocore_stubber, "enabled", False))


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxServer]:
    """A real sandbox server on an ephemeral port, fresh moto state."""
    if _mock_active():
        pytest.fail("a moto mock is active: it would wipe and intercept the sandbox server")
    server = SandboxServer(port=0).start()
    try:
        requests.post(f"{server.url}/moto-api/reset", timeout=10).raise_for_status()
        server.fault_plan.clear()
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox_client(sandbox: SandboxServer) -> Callable[..., Any]:
    """boto3 clients pointed at the sandbox server (plain boto3, endpoint_url only)."""

    def make(service: str, **kwargs: Any) -> Any:
        return boto3.client(service, region_name=REGION, endpoint_url=sandbox.url, **kwargs)

    return make
