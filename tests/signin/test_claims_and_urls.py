"""Pure pieces of sign-in: provider claim shapes → role, end-session URLs, the `next` rule."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from dashapp.identity import Role
from dashapp.signin import roles
from dashapp.signin.provider import logout_style, logout_url
from dashapp.signin.routes import safe_next
from tests.signin.conftest import oidc_settings

ROLE_MAP = {"admin": ("platform-admins",), "operator": ("data-eng",), "viewer": ("staff",)}

# What Cognito puts in an ID token (user pool groups) ...
COGNITO = {
    "sub": "3f2a-…",
    "cognito:username": "ada",
    "cognito:groups": ["staff", "platform-admins"],
    "email": "ada@example.com",
    "iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf",
}
# ... and what an Auth0 Action adds: a namespaced custom claim (names may contain dots).
AUTH0 = {
    "sub": "auth0|65f…",
    "nickname": "otto",
    "name": "Otto Operator",
    "https://smd.example.com/roles": ["data-eng"],
}
KEYCLOAK = {"sub": "k1", "preferred_username": "vera", "realm_access": {"roles": ["staff"]}}


@pytest.mark.parametrize(
    ("claims", "claim", "user", "role"),
    [
        (COGNITO, "cognito:groups", "ada@example.com", Role.admin),
        (AUTH0, "https://smd.example.com/roles", "otto", Role.operator),
        (KEYCLOAK, "realm_access.roles", "vera", Role.viewer),
        ({"sub": "s", "groups": "staff, data-eng"}, "groups", "s", Role.operator),
    ],
    ids=["cognito", "auth0-namespaced", "keycloak-nested", "comma-string"],
)
def test_each_providers_claim_shape_maps_to_the_highest_role(claims, claim, user, role):
    identity, _ = roles.identity_from_claims(
        claims, claim=claim, role_map=ROLE_MAP, default_role="deny"
    )
    assert identity is not None
    assert (identity.user, identity.role) == (user, role)


def test_no_mapped_group_is_denied_by_default_or_given_the_default_role():
    claims = {"sub": "x", "cognito:groups": ["contractors"]}
    kw = {"claim": "cognito:groups", "role_map": ROLE_MAP}
    assert roles.identity_from_claims(claims, default_role="deny", **kw) == (None, ("contractors",))
    identity, _ = roles.identity_from_claims(claims, default_role="viewer", **kw)
    assert identity is not None and identity.role == Role.viewer
    # A missing claim or a claim of the wrong type is "no groups", never an error.
    assert roles.groups_of({"groups": 7}, "groups") == ()
    assert roles.groups_of({}, "cognito:groups") == ()


COGNITO_META = {
    "issuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf",
    "authorization_endpoint": "https://smd.auth.eu-west-1.amazoncognito.com/oauth2/authorize",
}
AUTH0_META = {
    "issuer": "https://tenant.eu.auth0.com/",
    "end_session_endpoint": "https://tenant.eu.auth0.com/oidc/logout",
}
GENERIC_META = {
    "issuer": "https://idp.example",
    "end_session_endpoint": "https://idp.example/logout?x=1",
}


def _q(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def test_cognito_and_auth0_are_recognised_by_their_issuer(db_url):
    settings = oidc_settings(db_url)
    assert logout_style(settings, COGNITO_META) == "cognito"
    assert logout_style(settings, AUTH0_META) == "auth0"
    assert logout_style(settings, GENERIC_META) == "oidc"
    assert logout_style(settings, {"issuer": "https://idp.example"}) == "local"
    assert logout_style(oidc_settings(db_url, auth_logout="auth0"), GENERIC_META) == "auth0"


def test_end_session_urls_of_cognito_auth0_and_plain_oidc():
    back = "https://dash.example/auth/signed-out"
    cognito = logout_url("cognito", COGNITO_META, client_id="c1", id_token="t", return_to=back)
    assert cognito.startswith("https://smd.auth.eu-west-1.amazoncognito.com/logout?")
    assert _q(cognito) == {"client_id": "c1", "logout_uri": back}
    auth0 = logout_url("auth0", AUTH0_META, client_id="c1", id_token="t", return_to=back)
    assert auth0.startswith("https://tenant.eu.auth0.com/v2/logout?")
    assert _q(auth0) == {"client_id": "c1", "returnTo": back}
    plain = logout_url("oidc", GENERIC_META, client_id="c1", id_token="a.b.c", return_to=back)
    assert plain.startswith("https://idp.example/logout?x=1&")
    assert _q(plain) == {
        "x": "1",
        "client_id": "c1",
        "id_token_hint": "a.b.c",
        "post_logout_redirect_uri": back,
    }
    assert logout_url("local", GENERIC_META, client_id="c1", id_token=None, return_to=back) is None


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("/jobs/a%20job?range=6h", "/jobs/a%20job?range=6h"),
        ("/wall", "/wall"),
        (None, "/"),
        ("", "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/x", "/"),
        ("/\\evil.example", "/"),
        ("\\\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/jobs\r\nSet-Cookie: x", "/"),
        ("/auth/logout", "/"),
        ("jobs", "/"),
        ("/" + "a" * 3000, "/"),
    ],
)
def test_next_is_only_ever_a_path_on_this_site(given, kept):
    assert safe_next(given) == kept
