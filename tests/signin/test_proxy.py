"""Auth mode `proxy`: oauth2-proxy's headers and AWS ALB's signed `x-amzn-oidc-data`,
from trusted and untrusted addresses, with ES256 tokens signed here (padded and not)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey
from joserfc.jws import JWSRegistry
from sqlalchemy import select

from dashapp.app import create_app
from dashapp.config import Settings
from dashapp.models import AuditEntry
from dashapp.services import services
from dashapp.signin.gate import PROXY_KEY
from dashapp.signin.proxy import ProxyIdentity, alb_key_url
from tests.signin.conftest import ORIGIN, client_as

PROXY_ADDR, STRANGER = "10.0.3.7", "203.0.113.9"
ARN = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/smd/50dc6c495c0c9188"
OTHER_ARN = ARN.replace("smd/", "other/")
ISS = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbCdEf"
CLIENT = "5r2rk1vo0cl3stpf5t0e1ej0o0"
ROLE_MAP = {"admin": ["platform"], "operator": ["data-eng"], "viewer": ["staff"]}


def proxy_settings(db_url: str, **kw) -> Settings:
    values = {
        "database_url": db_url,
        "auth_mode": "proxy",
        "host": "0.0.0.0",
        "trusted_proxies": ("10.0.0.0/16",),
        "auth_role_map": ROLE_MAP,
        **kw,
    }
    return Settings(_env_file=None, **values)


class Keys:
    """The ALB's regional key endpoint and a user pool's JWKS, served from memory."""

    def __init__(self) -> None:
        self.alb = ec.generate_private_key(ec.SECP256R1())
        self.pool = RSAKey.generate_key(2048, parameters={"kid": "pool-1"})
        self.fetched: list[str] = []

    def fetch(self, url: str) -> bytes:
        self.fetched.append(url)
        if url == alb_key_url(ARN, "alb-1"):
            return self.alb.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        if url == f"{ISS}/.well-known/jwks.json":
            return json.dumps(KeySet([self.pool]).as_dict(private=False)).encode()
        raise OSError(f"404 {url}")

    def alb_token(self, claims: dict, *, padded: bool = True, **header) -> str:
        """Signed as the ALB does: base64url with padding, ES256 over those exact bytes."""
        head = {
            "alg": "ES256",
            "kid": "alb-1",
            "signer": ARN,
            "iss": ISS,
            "client": CLIENT,
            "typ": "JWT",
        }
        head.update(header)

        def enc(data: bytes) -> str:
            text = base64.urlsafe_b64encode(data).decode()
            return text if padded else text.rstrip("=")

        signing_input = f"{enc(json.dumps(head).encode())}.{enc(json.dumps(claims).encode())}"
        key = ECKey.import_key(
            self.alb.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        signature = JWSRegistry().get_alg("ES256").sign(signing_input.encode(), key)
        return f"{signing_input}.{enc(signature)}"

    def access_token(self, claims: dict) -> str:
        return jwt.encode({"alg": "RS256", "kid": "pool-1"}, claims, self.pool)


@pytest.fixture
def keys() -> Keys:
    return Keys()


@pytest.fixture
def make_proxy_app(db_url, make_services, keys):
    def make(**kw):
        settings = proxy_settings(db_url, **kw)
        app = create_app(settings, services=make_services(settings))
        app.server.extensions[PROXY_KEY] = ProxyIdentity(settings, fetch=keys.fetch)
        return app

    return make


def ask(app, path="/_dash-layout", *, addr=PROXY_ADDR, headers=None):
    client = client_as(app, None)
    return client.get(
        path, headers={**ORIGIN, **(headers or {})}, environ_overrides={"REMOTE_ADDR": addr}
    )


def identity_of(app, *, addr=PROXY_ADDR, headers=None) -> str:
    payload = {
        "output": "smd-identity.children",
        "outputs": {"id": "smd-identity", "property": "children"},
        "inputs": [{"id": "smd-url", "property": "pathname", "value": "/"}],
        "state": [],
        "changedPropIds": ["smd-url.pathname"],
    }
    client = client_as(app, None)
    r = client.post(
        "/_dash-update-component",
        json=payload,
        headers={**ORIGIN, **(headers or {})},
        environ_overrides={"REMOTE_ADDR": addr},
    )
    return f"{r.status_code} {r.text}"


def refusals(app) -> list[str]:
    with services(app.server).sessions() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == "request_refused"))
        return [e.detail["reason"] for e in rows]


OAUTH2_PROXY = {
    "X-Forwarded-User": "otto",
    "X-Forwarded-Email": "otto@example.com",
    "X-Forwarded-Groups": "staff,data-eng",
}


def test_oauth2_proxy_headers_from_a_trusted_address_sign_the_user_in(make_proxy_app):
    app = make_proxy_app()
    answer = identity_of(app, headers=OAUTH2_PROXY)
    assert answer.startswith("200") and "otto@example.com" in answer and '"operator"' in answer
    assert ask(app, "/", headers=OAUTH2_PROXY).status_code == 200


def test_the_same_headers_from_anywhere_else_are_ignored_and_audited(make_proxy_app):
    app = make_proxy_app()
    assert ask(app, addr=STRANGER, headers=OAUTH2_PROXY).status_code == 401
    assert refusals(app) == [f"identity headers from untrusted address {STRANGER}"]
    page = ask(app, "/", addr=STRANGER, headers=OAUTH2_PROXY)
    assert page.status_code == 401 and "through the proxy" in page.text  # no redirect loop
    assert ask(app).status_code == 401  # trusted address, no headers: nobody


def test_groups_mapping_to_no_role_are_refused(make_proxy_app):
    app = make_proxy_app()
    assert (
        ask(app, headers={**OAUTH2_PROXY, "X-Forwarded-Groups": "contractors"}).status_code == 401
    )
    assert refusals(app) == ["otto@example.com has no role (groups: contractors)"]


def alb_settings(**kw):
    return {
        "auth_alb_signer_arns": (ARN,),
        "auth_alb_issuer": ISS,
        "auth_alb_client_id": CLIENT,
        "auth_role_claim": "groups",
        **kw,
    }


@pytest.mark.parametrize("padded", [True, False], ids=["padded", "unpadded"])
def test_a_verified_alb_token_signs_the_user_in(make_proxy_app, keys, clock, padded):
    app = make_proxy_app(**alb_settings())
    exp = int((clock.now() + timedelta(minutes=2)).timestamp())
    token = keys.alb_token(
        {"sub": "s-1", "email": "ada@example.com", "groups": ["platform"]}, padded=padded, exp=exp
    )
    if padded:
        assert "=" in token  # the shape strict JWS parsers refuse
    answer = identity_of(app, headers={"x-amzn-oidc-data": token})
    assert answer.startswith("200") and "ada@example.com" in answer and '"admin"' in answer
    identity_of(app, headers={"x-amzn-oidc-data": token})
    assert keys.fetched == [alb_key_url(ARN, "alb-1")]  # the key is fetched once, by kid


def _alb_refused(app, keys, clock, claims=None, **header) -> list[str]:
    header.setdefault("exp", int((clock.now() + timedelta(minutes=2)).timestamp()))
    token = keys.alb_token(claims or {"sub": "s", "groups": ["staff"]}, **header)
    assert ask(app, headers={"x-amzn-oidc-data": token}).status_code == 401
    return refusals(app)


def test_alb_tokens_are_refused_unless_every_check_passes(make_proxy_app, keys, clock):
    app = make_proxy_app(**alb_settings())
    past = int((clock.now() - timedelta(seconds=1)).timestamp())
    assert (
        _alb_refused(app, keys, clock, signer=OTHER_ARN)[-1]
        == f"signer {OTHER_ARN!r} is not an allowed ALB"
    )
    assert _alb_refused(app, keys, clock, exp=past)[-1] == "x-amzn-oidc-data has expired"
    assert (
        _alb_refused(app, keys, clock, iss="https://evil.example")[-1]
        == "issuer does not match SMD_AUTH_ALB_ISSUER"
    )
    assert (
        _alb_refused(app, keys, clock, client="other")[-1]
        == "client does not match SMD_AUTH_ALB_CLIENT_ID"
    )
    assert "could not load the key" in _alb_refused(app, keys, clock, kid="alb-2")[-1]
    assert _alb_refused(app, keys, clock, alg="HS256")[-1] == "x-amzn-oidc-data is not ES256"
    exp = int((clock.now() + timedelta(minutes=2)).timestamp())
    good = keys.alb_token({"sub": "s", "groups": ["staff"]}, exp=exp)
    head, _, sig = good.split(".")
    forged_payload = base64.urlsafe_b64encode(
        json.dumps({"sub": "s", "groups": ["platform"]}).encode()
    ).decode()
    assert (
        ask(app, headers={"x-amzn-oidc-data": f"{head}.{forged_payload}.{sig}"}).status_code == 401
    )
    assert refusals(app)[-1] == "x-amzn-oidc-data signature does not verify"
    # A valid token from an untrusted address is no better than a forged one.
    assert ask(app, addr=STRANGER, headers={"x-amzn-oidc-data": good}).status_code == 401


def test_behind_cognito_the_groups_come_from_the_verified_access_token(make_proxy_app, keys, clock):
    app = make_proxy_app(**alb_settings(auth_role_claim="cognito:groups"))
    now = int(clock.now().timestamp())
    exp = now + 120
    data = keys.alb_token({"sub": "s-9", "email": "vera@example.com", "username": "vera"}, exp=exp)
    access = {
        "sub": "s-9",
        "iss": ISS,
        "exp": exp,
        "token_use": "access",
        "client_id": CLIENT,
        "cognito:groups": ["data-eng"],
    }
    answer = identity_of(
        app,
        headers={"x-amzn-oidc-data": data, "x-amzn-oidc-accesstoken": keys.access_token(access)},
    )
    assert answer.startswith("200") and '"operator"' in answer
    for wrong in (
        {"sub": "someone-else"},
        {"client_id": "other"},
        {"token_use": "id"},
        {"exp": now - 1},
    ):
        bad = keys.access_token({**access, **wrong})
        r = ask(app, headers={"x-amzn-oidc-data": data, "x-amzn-oidc-accesstoken": bad})
        assert r.status_code == 401, wrong
    assert all("accesstoken does not verify" in reason for reason in refusals(app))
