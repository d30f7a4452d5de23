"""The OIDC provider, spoken to through Authlib: discovery, PKCE, the code exchange, the ID
token's checks, and how sign-out ends the provider's own session.

Nothing here is hand-rolled: Authlib builds the authorization URL (S256 code challenge,
state, nonce), exchanges the code with the verifier, and verifies the ID token
(signature from the provider's JWKS, issuer, audience, expiry, nonce, at_hash). Any
provider with a discovery document works; Cognito and Auth0 differ only in their claim
names (see `roles`) and in how they end a session (`logout_url`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.integrations.base_client import BaseApp, OAuth2Mixin, OpenIDMixin
from authlib.integrations.requests_client import OAuth2Session

from dashapp.config import Settings

TIMEOUT_S = 10


class ProviderError(Exception):
    """The provider could not be reached or refused; the message is for the operator."""


class _Client(OAuth2Mixin, OpenIDMixin, BaseApp):
    client_cls = OAuth2Session


@dataclass(frozen=True)
class Begun:
    url: str
    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class Finished:
    claims: dict[str, Any]
    id_token: str


def logout_style(settings: Settings, metadata: Mapping[str, Any]) -> str:
    """cognito | auth0 | oidc | local: which way sign-out ends the provider's session."""
    if settings.auth_logout != "auto":
        return settings.auth_logout
    host = (urlsplit(str(metadata.get("issuer", ""))).hostname or "").lower()
    if host.startswith("cognito-idp.") and host.endswith(".amazonaws.com"):
        return "cognito"
    if host.endswith(".auth0.com"):
        return "auth0"
    return "oidc" if metadata.get("end_session_endpoint") else "local"


def logout_url(
    style: str,
    metadata: Mapping[str, Any],
    *,
    client_id: str,
    id_token: str | None,
    return_to: str,
) -> str | None:
    """Where to send the browser so the provider forgets it too; None: nowhere (local)."""
    if style == "cognito":
        # The hosted UI's domain serves /logout; the issuer (cognito-idp…) does not.
        parts = urlsplit(str(metadata.get("authorization_endpoint", "")))
        query = urlencode({"client_id": client_id, "logout_uri": return_to})
        return f"{parts.scheme}://{parts.netloc}/logout?{query}"
    if style == "auth0":
        issuer = str(metadata.get("issuer", "")).rstrip("/")
        return f"{issuer}/v2/logout?" + urlencode({"client_id": client_id, "returnTo": return_to})
    endpoint = metadata.get("end_session_endpoint")
    if style != "oidc" or not endpoint:
        return None
    params = {"post_logout_redirect_uri": return_to, "client_id": client_id}
    if id_token:
        params["id_token_hint"] = id_token
    sep = "&" if "?" in str(endpoint) else "?"
    return f"{endpoint}{sep}{urlencode(params)}"


class Provider:
    """One configured provider; its discovery document is read once, on first use."""

    def __init__(self, settings: Settings) -> None:
        secret = settings.auth_oidc_client_secret
        client_kwargs: dict[str, Any] = {
            "scope": settings.auth_oidc_scopes,
            "code_challenge_method": "S256",
            "default_timeout": TIMEOUT_S,
        }
        if secret is None:
            client_kwargs["token_endpoint_auth_method"] = "none"
        self.settings = settings
        self.client_id = settings.auth_oidc_client_id or ""
        self._client = _Client(
            framework=None,
            name="smd",
            client_id=self.client_id,
            client_secret=secret.get_secret_value() if secret else None,
            server_metadata_url=settings.auth_oidc_discovery_url,
            client_kwargs=client_kwargs,
        )

    def metadata(self) -> dict[str, Any]:
        try:
            return dict(self._client.load_server_metadata())
        except Exception as e:  # requests, JSON: the provider is unreachable or broken
            raise ProviderError(f"discovery at {self.settings.auth_oidc_discovery_url}: {e}") from e

    def begin(self, redirect_uri: str) -> Begun:
        """The authorization URL with a fresh state, nonce and PKCE verifier."""
        self.metadata()
        made = self._client.create_authorization_url(redirect_uri=redirect_uri)
        return Begun(made["url"], made["state"], made["nonce"], made["code_verifier"])

    def finish(self, *, redirect_uri: str, code: str, code_verifier: str, nonce: str) -> Finished:
        """Exchange the code and verify the ID token; the claims (merged with userinfo when
        the ID token lacks the role claim) and the raw ID token for the logout hint."""
        try:
            token = self._client.fetch_access_token(
                redirect_uri=redirect_uri, code=code, code_verifier=code_verifier
            )
        except Exception as e:
            raise ProviderError(f"the token endpoint refused the code: {e}") from e
        if "id_token" not in token:
            raise ProviderError("the provider answered without an ID token (is 'openid' a scope?)")
        try:
            claims = dict(self._client.parse_id_token(token, nonce=nonce))
        except Exception as e:
            raise ProviderError(f"the ID token did not verify: {e}") from e
        if self.settings.auth_role_claim not in claims and self.metadata().get("userinfo_endpoint"):
            try:
                extra = dict(self._client.userinfo(token=token))
            except Exception as e:
                raise ProviderError(f"userinfo failed: {e}") from e
            if extra.get("sub") == claims.get("sub"):
                claims = {**extra, **claims}
        return Finished(claims, str(token["id_token"]))

    def logout_url(self, id_token: str | None, return_to: str) -> str | None:
        metadata = self.metadata()
        return logout_url(
            logout_style(self.settings, metadata),
            metadata,
            client_id=self.client_id,
            id_token=id_token,
            return_to=return_to,
        )
