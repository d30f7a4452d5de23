"""A real OIDC provider for tests: `oidc-provider-mock` served from a thread, offline.

It speaks discovery, the authorization-code flow, signed RS256 ID tokens, JWKS,
userinfo and RP-initiated logout like a production provider; its authorization form
lets a test (or a browser) pick the user, whose claims (groups included) the test sets.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from oidc_provider_mock import User, run_server_in_thread


@contextmanager
def running_provider(users: Mapping[str, dict[str, Any]]) -> Iterator[str]:
    """The provider's base URL; `users` maps each subject to its claims."""
    predefined = [User(sub=sub, claims=dict(claims)) for sub, claims in users.items()]
    with run_server_in_thread(port=0, user_claims=predefined) as server:
        yield f"http://localhost:{server.server_port}"


def set_claims(base_url: str, sub: str, claims: dict[str, Any]) -> None:
    """Change what the provider says about a user (their groups, say) from now on."""
    requests.put(f"{base_url}/users/{sub}", json=claims, timeout=5).raise_for_status()


def authorize_as(authorization_url: str, sub: str) -> str:
    """Submit the provider's form as `sub`; returns where it sends the browser back to."""
    r = requests.post(authorization_url, data={"sub": sub}, allow_redirects=False, timeout=5)
    assert r.status_code == 302, r.text
    return r.headers["Location"]


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
