"""Parsing and cross-checks of the sign-in settings, kept out of `dashapp.config`'s list.

Each function raises ValueError phrased as `describe_error` turns into the one line an
operator reads (a cross-field check names its setting as "field: message").
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

from dashapp.config_json import loads_setting

ROLES = ("viewer", "operator", "admin")
_ALB_ARN = re.compile(
    r"^arn:aws[\w-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer/app/\S+$"
)


def parse_role_map(v: Any) -> Any:
    """`{"admin": ["group", …]}` from JSON; a single group may be a plain string."""
    if isinstance(v, str):
        v = loads_setting(v.strip() or "{}")
    if not isinstance(v, dict):
        raise ValueError('must be a JSON object: {"admin": ["group", ...], ...}')
    for role in v:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; roles are viewer, operator, admin")
    return {k: (g,) if isinstance(g, str) else g for k, g in v.items()}


def parse_list(v: Any) -> Any:
    """A comma-separated string (or a JSON list) as a tuple of non-empty items."""
    if isinstance(v, str):
        text = v.strip()
        if text.startswith("["):
            v = loads_setting(text)
        else:
            return tuple(item.strip() for item in text.split(",") if item.strip())
    return v


def check_networks(values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        try:
            ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(f"{value!r} is not an IP address or CIDR network") from None
    return values


def check_alb_arns(values: tuple[str, ...]) -> tuple[str, ...]:
    for value in values:
        if not _ALB_ARN.match(value):
            raise ValueError(f"{value!r} is not an application load balancer ARN")
    return values


def check_modes(settings: Any, env_name: Callable[[str], str]) -> None:
    """What each auth mode needs, once every setting parsed on its own."""
    if settings.auth_mode == "oidc":
        for name in ("auth_oidc_discovery_url", "auth_oidc_client_id"):
            if not getattr(settings, name):
                raise ValueError(f"{name}: auth mode 'oidc' needs {env_name(name)}")
    if settings.auth_mode == "proxy":
        if not settings.trusted_proxies:
            raise ValueError(
                "trusted_proxies: auth mode 'proxy' believes identity headers only from "
                "SMD_TRUSTED_PROXIES; list the proxy's or the ALB's addresses"
            )
        if settings.auth_alb_signer_arns:
            for name in ("auth_alb_issuer", "auth_alb_client_id"):
                if not getattr(settings, name):
                    raise ValueError(
                        f"{name}: an ALB (SMD_AUTH_ALB_SIGNER_ARNS) needs {env_name(name)}"
                    )
    if settings.auth_session_idle_s > settings.auth_session_max_s:
        raise ValueError(
            "auth_session_idle_s: the idle timeout cannot be longer than SMD_AUTH_SESSION_MAX_S"
        )
