"""Who is asking and what they may do: the one place that decides.

Every action callback and route asks `require()` (or uses `role_required`), from
day one, so adding sign-in later changes how an identity is found, never where
permissions are checked. In auth mode `none` the local user is `admin`; that
mode refuses non-loopback addresses (see `Settings`).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from flask import has_request_context, request

from dashapp import audit
from dashapp.services import services


class Role(enum.IntEnum):
    viewer = 1  # read and export
    operator = 2  # + upload, start/stop/re-run jobs, run queries
    admin = 3  # + settings, audit log

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls[value.strip().lower()]
        except KeyError:
            raise ValueError(f"unknown role {value!r}; roles are viewer, operator, admin") from None


@dataclass(frozen=True)
class Identity:
    user: str
    role: Role
    display_name: str = ""
    groups: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return self.display_name or self.user

    def can(self, needed: Role) -> bool:
        return self.role >= needed


LOCAL_ADMIN = Identity(user="local", role=Role.admin, display_name="Local user")


class Forbidden(Exception):
    """Raised when an identity lacks the role an action needs; the message is user-facing."""

    def __init__(self, identity: Identity, needed: Role, action: str) -> None:
        self.identity, self.needed, self.action = identity, needed, action
        super().__init__(
            f"{identity.label} has the {identity.role.name} role; "
            f"{action.replace('_', ' ')} needs {needed.name}."
        )


def current_identity() -> Identity:
    """The identity behind the current request.

    Auth mode `none` (the only mode so far) has one local user whose role is
    `SMD_LOCAL_ROLE`; sign-in modes will resolve the identity from the session here.
    """
    settings = services().settings
    role = Role.parse(settings.local_role)
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
