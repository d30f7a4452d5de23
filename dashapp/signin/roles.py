"""From the provider's claims to one of our roles: which claim, which groups, which role.

Providers put groups in different places: Cognito in `cognito:groups`, Auth0 in a
namespaced custom claim (`https://example.com/roles`), Keycloak under
`realm_access.roles`. The claim is looked up by its exact name first (Auth0's names
contain dots), then as a dotted path. A user in several mapped groups gets the
highest role; one in none gets `SMD_AUTH_DEFAULT_ROLE`, which is `deny` unless set.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from dashapp.identity import Identity, Role

_SEPARATORS = re.compile(r"[,\s]+")


def claim_value(claims: Mapping[str, Any], name: str) -> Any:
    """The claim called `name`, else the value at the dotted path `name`, else None."""
    if name in claims:
        return claims[name]
    node: Any = claims
    for part in name.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def groups_of(claims: Mapping[str, Any], claim: str) -> tuple[str, ...]:
    """The user's groups as a tuple of strings, whatever shape the provider sends them in
    (a list, or one string separated by commas or spaces)."""
    value = claim_value(claims, claim)
    if value is None:
        return ()
    if isinstance(value, str):
        items: Sequence[Any] = [v for v in _SEPARATORS.split(value) if v]
    elif isinstance(value, list | tuple):
        items = value
    else:
        return ()
    return tuple(dict.fromkeys(str(v) for v in items if isinstance(v, str | int)))


def role_for(
    groups: Sequence[str], role_map: Mapping[str, Sequence[str]], default_role: str
) -> Role | None:
    """The highest role any of `groups` maps to; else the default (None when it is deny)."""
    have = set(groups)
    mapped = [Role.parse(role) for role, wanted in role_map.items() if have & set(wanted)]
    if mapped:
        return max(mapped)
    return None if default_role == "deny" else Role.parse(default_role)


def user_of(claims: Mapping[str, Any]) -> str:
    """What the audit log calls the user: e-mail, else a username, else the subject."""
    for key in ("email", "preferred_username", "cognito:username", "nickname", "sub"):
        value = claims.get(key)
        if isinstance(value, str) and value:
            return value
    return "unknown"


def display_name_of(claims: Mapping[str, Any]) -> str:
    name = claims.get("name")
    if isinstance(name, str) and name:
        return name
    parts = [claims.get("given_name"), claims.get("family_name")]
    return " ".join(p for p in parts if isinstance(p, str) and p)


def identity_from_claims(
    claims: Mapping[str, Any],
    *,
    claim: str,
    role_map: Mapping[str, Sequence[str]],
    default_role: str,
) -> tuple[Identity | None, tuple[str, ...]]:
    """(identity, groups): the identity is None when the user maps to no role (deny)."""
    groups = groups_of(claims, claim)
    role = role_for(groups, role_map, default_role)
    if role is None:
        return None, groups
    return (
        Identity(
            user=user_of(claims), role=role, display_name=display_name_of(claims), groups=groups
        ),
        groups,
    )
