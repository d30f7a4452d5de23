"""Who someone is and what their role lets them do: values, no Flask, no database.

Kept apart from `dashapp.actions.auth` (which finds the identity of a request and
audits denials) so the audit log and every other module can name an identity
without importing the request machinery.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


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

# Where the request gate (dashapp.signin.gate) leaves the identity it resolved, on `flask.g`.
REQUEST_IDENTITY = "smd_identity"


class SignInRequired(Exception):
    """No identity could be resolved for a request in a sign-in mode (the gate answers 401)."""


class Forbidden(Exception):
    """Raised when an identity lacks the role an action needs; the message is user-facing."""

    def __init__(self, identity: Identity, needed: Role, action: str) -> None:
        self.identity, self.needed, self.action = identity, needed, action
        super().__init__(
            f"{identity.label} has the {identity.role.name} role; "
            f"{action.replace('_', ' ')} needs {needed.name}."
        )
