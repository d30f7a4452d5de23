"""Auth mode `proxy`: the identity comes from the reverse proxy that signed the user in.

Headers are believed only when the request's peer address is in `SMD_TRUSTED_PROXIES`
(anyone else could type them). Two kinds of proxy:

- **oauth2-proxy** (`--set-xauthrequest`/`--pass-user-headers`): `X-Forwarded-User`,
  `-Email`, `-Preferred-Username`, `-Groups` (comma-separated).
- **AWS ALB** with OIDC authentication: `x-amzn-oidc-data`, an ES256 JWT the ALB
  signs. Its header names the signer (must be in `SMD_AUTH_ALB_SIGNER_ARNS`), the
  issuer and client (must match), the expiry and the key id; the public key is
  fetched from the ALB key endpoint of the signer's region by `kid` (cached; the
  fetcher is injectable). The ALB pads its base64url segments, which strict JWS
  parsers refuse, so the segments are unpadded for parsing while the signature is
  checked (by joserfc) over the bytes exactly as sent. Behind Cognito the user claims
  lack `cognito:groups`: they are read from `x-amzn-oidc-accesstoken`, verified
  against the user pool's JWKS (issuer, expiry, `token_use=access`, client).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import threading
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import requests
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from dashapp.config import Settings
from dashapp.identity import Identity
from dashapp.signin import roles

Fetch = Callable[[str], bytes]  # URL → body (PEM key, JWKS document)
ALB_DATA = "x-amzn-oidc-data"
ALB_ACCESS_TOKEN = "x-amzn-oidc-accesstoken"
COGNITO_GROUPS = "cognito:groups"


class ProxyRefused(Exception):
    """Why identity headers were not believed (audited; never shown in detail to the client)."""


def fetch_url(url: str) -> bytes:
    response = requests.get(url, timeout=5)
    response.raise_for_status()
    return response.content


def b64url_decode(segment: str) -> bytes:
    """Base64url with or without the `=` padding the ALB adds."""
    text = segment.strip()
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        raise ProxyRefused("token is not base64url") from None


def alb_key_url(signer_arn: str, kid: str) -> str:
    """The regional ALB key endpoint for `kid` (the region is the signer ARN's)."""
    region = signer_arn.split(":")[3]
    partition = signer_arn.split(":")[1]
    host = "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com"
    safe_kid = "".join(c for c in kid if c.isalnum() or c in "-_")
    if safe_kid != kid or not kid:
        raise ProxyRefused("token key id has unexpected characters")
    return f"https://public-keys.auth.elb.{region}.{host}/{kid}"


class ProxyIdentity:
    """Turns one request's peer address and headers into an identity (or a refusal)."""

    def __init__(self, settings: Settings, fetch: Fetch = fetch_url) -> None:
        self.settings = settings
        self._fetch = fetch
        self._networks = [ipaddress.ip_network(n, strict=False) for n in settings.trusted_proxies]
        self._keys: dict[str, Any] = {}
        self._lock = threading.Lock()

    def trusted(self, remote_addr: str | None) -> bool:
        try:
            address = ipaddress.ip_address(remote_addr or "")
        except ValueError:
            return False
        return any(address in network for network in self._networks)

    def claims(
        self, headers: Mapping[str, str], remote_addr: str | None, now: datetime
    ) -> dict[str, Any] | None:
        """The user's claims from a trusted proxy; None when the request carries none.

        Raises ProxyRefused when identity headers come from an untrusted address or do
        not verify."""
        wanted = (
            (ALB_DATA,)
            if self.settings.auth_alb_signer_arns
            else ("X-Forwarded-User", "X-Forwarded-Email")
        )
        present = any(headers.get(name) for name in wanted)
        if not self.trusted(remote_addr):
            if present:
                raise ProxyRefused(f"identity headers from untrusted address {remote_addr}")
            return None
        if not present:
            return None
        if self.settings.auth_alb_signer_arns:
            return self._alb_claims(headers, now)
        return self._oauth2_proxy_claims(headers)

    def identify(
        self, headers: Mapping[str, str], remote_addr: str | None, now: datetime
    ) -> Identity | None:
        """The identity, None without headers; raises ProxyRefused (bad headers, or no role)."""
        found = self.claims(headers, remote_addr, now)
        if found is None:
            return None
        identity, groups = roles.identity_from_claims(
            found,
            claim=self.settings.auth_role_claim,
            role_map=self.settings.auth_role_map,
            default_role=self.settings.auth_default_role,
        )
        if identity is None:
            raise ProxyRefused(
                f"{roles.user_of(found)} has no role (groups: {', '.join(groups) or 'none'})"
            )
        return identity

    # --- oauth2-proxy ---------------------------------------------------------------
    def _oauth2_proxy_claims(self, headers: Mapping[str, str]) -> dict[str, Any]:
        claims: dict[str, Any] = {"sub": headers.get("X-Forwarded-User", "")}
        if headers.get("X-Forwarded-Email"):
            claims["email"] = headers["X-Forwarded-Email"]
        if headers.get("X-Forwarded-Preferred-Username"):
            claims["preferred_username"] = headers["X-Forwarded-Preferred-Username"]
        claims[self.settings.auth_role_claim] = headers.get("X-Forwarded-Groups", "")
        return claims

    # --- AWS ALB --------------------------------------------------------------------
    def _cached(self, url: str, load: Callable[[bytes], Any]) -> Any:
        with self._lock:
            if url in self._keys:
                return self._keys[url]
        try:
            value = load(self._fetch(url))
        except ProxyRefused:
            raise
        except Exception as e:
            raise ProxyRefused(f"could not load the key at {url}: {e}") from e
        with self._lock:
            self._keys[url] = value
        return value

    def _alb_claims(self, headers: Mapping[str, str], now: datetime) -> dict[str, Any]:
        token = headers.get(ALB_DATA, "")
        parts = token.split(".")
        if len(parts) != 3:
            raise ProxyRefused("x-amzn-oidc-data is not a JWS")
        try:
            header = json.loads(b64url_decode(parts[0]))
        except ValueError:
            raise ProxyRefused("x-amzn-oidc-data header is not JSON") from None
        if not isinstance(header, dict):
            raise ProxyRefused("x-amzn-oidc-data header is not a JSON object")
        settings = self.settings
        if header.get("alg") != "ES256":
            raise ProxyRefused("x-amzn-oidc-data is not ES256")
        signer = str(header.get("signer", ""))
        if signer not in settings.auth_alb_signer_arns:
            raise ProxyRefused(f"signer {signer!r} is not an allowed ALB")
        if header.get("iss") != settings.auth_alb_issuer:
            raise ProxyRefused("issuer does not match SMD_AUTH_ALB_ISSUER")
        if header.get("client") != settings.auth_alb_client_id:
            raise ProxyRefused("client does not match SMD_AUTH_ALB_CLIENT_ID")
        exp = header.get("exp")
        if not isinstance(exp, int | float) or now.timestamp() >= exp:
            raise ProxyRefused("x-amzn-oidc-data has expired")
        key = self._cached(alb_key_url(signer, str(header.get("kid", ""))), ECKey.import_key)
        unpadded = ".".join(p.rstrip("=") for p in parts)
        try:
            obj = jws.extract_compact(unpadded.encode())
            # Verify over the segments exactly as the ALB signed them (padding included).
            obj.segments["header"], obj.segments["payload"] = parts[0].encode(), parts[1].encode()
            # The ALB's own header fields (signer, client, iss, exp) are not JWS registered
            # names; they were checked above.
            registry = jws.JWSRegistry(algorithms=["ES256"], strict_check_header=False)
            if not jws.validate_compact(obj, key, registry=registry):
                raise ProxyRefused("x-amzn-oidc-data signature does not verify")
            claims = json.loads(obj.payload)
        except (JoseError, ValueError) as e:
            raise ProxyRefused(f"x-amzn-oidc-data does not verify: {e}") from e
        if not isinstance(claims, dict):
            raise ProxyRefused("x-amzn-oidc-data payload is not an object")
        if settings.auth_role_claim == COGNITO_GROUPS and COGNITO_GROUPS not in claims:
            claims[COGNITO_GROUPS] = self._cognito_groups(headers, str(claims.get("sub", "")), now)
        return claims

    def _cognito_groups(self, headers: Mapping[str, str], sub: str, now: datetime) -> list[str]:
        """Groups from the Cognito access token the ALB passes on, once it verifies."""
        token = headers.get(ALB_ACCESS_TOKEN, "")
        if not token:
            return []
        issuer = str(self.settings.auth_alb_issuer).rstrip("/")
        keys = self._cached(
            f"{issuer}/.well-known/jwks.json", lambda b: KeySet.import_key_set(json.loads(b))
        )
        try:
            decoded = jwt.decode(token, keys, algorithms=["RS256"])
            jwt.JWTClaimsRegistry(
                now=int(now.timestamp()),
                iss={"essential": True, "value": issuer},
                exp={"essential": True},
                token_use={"essential": True, "value": "access"},
                client_id={"essential": True, "value": self.settings.auth_alb_client_id},
                sub={"essential": True, "value": sub},
            ).validate(decoded.claims)
        except (JoseError, ValueError) as e:
            raise ProxyRefused(f"x-amzn-oidc-accesstoken does not verify: {e}") from e
        groups = decoded.claims.get(COGNITO_GROUPS, [])
        return [str(g) for g in groups] if isinstance(groups, list) else []
