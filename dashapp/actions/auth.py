"""Who is asking and what they may do: the one place that decides.

Every action callback and route asks `require()` (or uses `role_required`), from
day one, so sign-in changed how an identity is found, never where permissions are
checked. The request gate (`dashapp.signin.gate`) resolves who is asking once per
request and leaves it on `flask.g`; in auth mode `none` that is the local user with
`SMD_LOCAL_ROLE`, a mode that refuses non-loopback addresses (see `Settings`).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import g, has_request_context, request

from dashapp.actions import audit
from dashapp.identity import (
    LOCAL_ADMIN,
    REQUEST_IDENTITY,
    Forbidden,
    Identity,
    Role,
    SignInRequired,
)
from dashapp.services import services


def current_identity() -> Identity:
    """The identity behind the current request, as the request gate resolved it.

    Without one (a callback body called outside a request), auth mode `none` answers
    its local user and every sign-in mode raises `SignInRequired`: nobody is assumed.
    """
    if has_request_context():
        found = g.get(REQUEST_IDENTITY)
        if isinstance(found, Identity):
            return found
    settings = services().settings
    if settings.auth_mode != "none":
        raise SignInRequired("sign-in required")
    return local_identity(settings.local_role)


def local_identity(local_role: str) -> Identity:
    """The one user of auth mode `none`."""
    role = Role.parse(local_role)
    if role == Role.admin:
        return LOCAL_ADMIN
    return Identity(user="local", role=role, display_name="Local user")


def require(needed: Role, action: str, target: str = "") -> Identity:
    """Return the identity when it holds `needed`; otherwise audit the denial and raise."""
    identity = current_identity()
    if identity.can(needed):
        return identity
    svc = services()
    with svc.sessions.begin() as session:
        audit.record(
            session,
            identity,
            action=action,
            target=target,
            outcome="denied",
            at=svc.clock.now(),
            detail={"needed": needed.name},
            remote_addr=request.remote_addr if has_request_context() else None,
        )
    raise Forbidden(identity, needed, action)


F = TypeVar("F", bound=Callable[..., Any])


def role_required(needed: Role, action: str) -> Callable[[F], F]:
    """Flask route decorator: 403 with a plain message when the role is missing."""

    def deco(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                require(needed, action, target=request.path)
            except Forbidden as e:
                return str(e) + "\n", 403, {"Content-Type": "text/plain; charset=utf-8"}
            return view(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return deco
