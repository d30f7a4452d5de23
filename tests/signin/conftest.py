"""Fixtures for sign-in: an app in auth mode `oidc` and sessions minted straight in the database.

The provider is not contacted until someone starts a sign-in, so these apps can point at
an address nothing listens on; tests that sign in for real run the provider
(`oidc_provider.py`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import dash
import pytest
from flask.testing import FlaskClient

from dashapp.app import create_app
from dashapp.config import Settings
from dashapp.identity import Identity, Role
from dashapp.services import Services
from dashapp.signin import cookies, sessions
from tests.web import conftest as web_fixtures

# Browsers accept `__Host-` cookies only over https; the test client sends them anyway,
# but the app builds absolute URLs (redirects, Origin checks) from this base.
BASE_URL = "https://dash.test"
ORIGIN = {"Origin": BASE_URL}

# The web tier's fixed clock and services factory, shared.
clock = web_fixtures.clock
make_services = web_fixtures.make_services


USERS = {
    "ada": {"email": "ada@example.com", "name": "Ada Admin", "groups": ["platform", "staff"]},
    "otto": {"email": "otto@example.com", "name": "Otto", "groups": ["data-eng"]},
    "vera": {"email": "vera@example.com", "groups": "staff"},
    "nina": {"email": "nina@example.com", "groups": ["contractors"]},
}


@pytest.fixture(scope="session")
def idp() -> Iterator[str]:
    """A real OIDC provider (oidc-provider-mock) for the whole run; its base URL."""
    from tests.signin.oidc_provider import running_provider

    with running_provider(USERS) as url:
        yield url


def oidc_settings(db_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": db_url,
        "auth_mode": "oidc",
        "host": "0.0.0.0",
        "auth_oidc_discovery_url": "http://127.0.0.1:9/.well-known/openid-configuration",
        "auth_oidc_client_id": "smd-dashboard",
        "auth_role_map": {"admin": ["platform"], "operator": ["data-eng"], "viewer": ["staff"]},
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def oidc_svc(db_url: str, make_services: Callable[[Settings], Services]) -> Services:
    return make_services(oidc_settings(db_url))


@pytest.fixture
def oidc_app(oidc_svc: Services) -> dash.Dash:
    return create_app(oidc_svc.settings, services=oidc_svc)


def mint_session(
    svc: Services, role: Role | str, user: str = "", *, kind: str = "user", **kw: Any
) -> str:
    """A valid session row for a user of `role`; returns the cookie value."""
    role = Role.parse(role) if isinstance(role, str) else role
    name = user or f"{role.name}@example.com"
    with svc.sessions.begin() as session:
        raw, _ = sessions.create(
            session,
            identity=Identity(user=name, role=role, display_name=name.split("@")[0].title()),
            subject=f"sub-{name}",
            kind=kind,
            now=svc.clock.now(),
            lifetime_s=kw.pop("lifetime_s", svc.settings.auth_session_max_s),
            **kw,
        )
    return raw


class HttpsClient(FlaskClient):
    """A test client whose every request goes to BASE_URL."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if not (args and isinstance(args[0], str) and "://" in args[0]):
            kwargs.setdefault("base_url", BASE_URL)
        return super().open(*args, **kwargs)


def client_as(app: dash.Dash, raw: str | None) -> FlaskClient:
    """A test client on BASE_URL carrying the session cookie (none for anonymous)."""
    app.server.test_client_class = HttpsClient
    client = app.server.test_client()
    if raw:
        client.set_cookie(cookies.SESSION, raw, domain="dash.test")
    return client


@pytest.fixture
def make_app(
    idp: str, db_url: str, make_services: Callable[[Settings], Services]
) -> Callable[..., dash.Dash]:
    def make(**overrides: Any) -> dash.Dash:
        settings = oidc_settings(
            db_url,
            auth_oidc_discovery_url=f"{idp}/.well-known/openid-configuration",
            public_url=BASE_URL,
            auth_oidc_client_secret="test-secret",
            **overrides,
        )
        return create_app(settings, services=make_services(settings))

    return make
