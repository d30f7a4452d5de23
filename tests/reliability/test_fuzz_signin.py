"""Sign-in surfaces under random input: bearer headers, session and sign-in cookies,
enrolment links, `next=` targets, the provider's answer, proxy headers.

Whatever a request carries, the answer is a refusal (400/401/403/429, or 502 when the
provider cannot be reached), a redirect to a path on this site, or (only for what a
trusted proxy vouches for) the page; never a 500, never a redirect to another host, and
never a session, a token or a sign-in attempt that was not earned. The refusals are
audited, which is the design; nothing else is written.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import dash
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from dashapp.app import create_app
from dashapp.clock import FixedClock
from dashapp.models import AccessToken, AuditEntry, AuthSession, SigninAttempt
from dashapp.services import Services, services
from dashapp.signin import cookies, device_scope
from dashapp.signin.gate import PROXY_KEY
from dashapp.signin.proxy import ProxyIdentity
from dashapp.signin.routes import safe_next
from tests.reliability.conftest import examples
from tests.reliability.outcomes import row_counts
from tests.reliability.strategies import edge_text, hostile_text, json_values
from tests.signin.conftest import BASE_URL, ORIGIN, HttpsClient, oidc_settings
from tests.signin.test_proxy import ARN, CLIENT, ISS, PROXY_ADDR, STRANGER, Keys, proxy_settings

HOST = urlsplit(BASE_URL).netloc
EARNED = (AuthSession, AccessToken, SigninAttempt)  # what only a valid sign-in writes


def header_text() -> st.SearchStrategy[str]:
    """What an HTTP header can carry past gunicorn: Latin-1, no control characters but tab."""
    chars = st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f")
    latin = st.text(st.one_of(st.just("\t"), chars), max_size=60)
    return st.one_of(latin, st.sampled_from(["", " ", "null", "Bearer", "smd_a_", "smd_s_"]))


def next_values() -> st.SearchStrategy[str]:
    """`next=` values, with the open-redirect classics among them."""
    tricks = ["//evil.example", "/\\evil.example", "\\\\evil.example", "https://evil.example",
              "/\t/evil.example", "/%2F/evil.example", "///evil.example", "javascript:alert(1)",
              "/auth/logout", "/.//evil.example", "/@evil.example", "/ /evil.example",
              "http:/evil.example", "/wall?x=1#y", "/日本", "/" + "a" * 3000]  # fmt: skip
    return st.one_of(st.sampled_from(tricks), edge_text(), edge_text().map(lambda t: "/" + t))


def _assert_stays_here(response: Any) -> None:
    """A redirect goes to a path of this site (as a browser would resolve it)."""
    if response.status_code in (301, 302, 303, 307, 308):
        target = urljoin(f"{BASE_URL}/auth/login", response.headers["Location"])
        parts = urlsplit(target)
        assert (parts.scheme, parts.netloc) == ("https", HOST), response.headers["Location"]


@settings(max_examples=examples(400))
@given(value=st.one_of(st.none(), next_values()))
def test_next_is_a_path_on_this_site_or_the_home_page(value: str | None) -> None:
    target = safe_next(value)
    assert target in ("/", value)
    assert not any(c in target for c in "\t\n\r\\")  # browsers drop tabs: '/\t/x' is '//x'
    parts = urlsplit(urljoin(f"{BASE_URL}/auth/login", target))
    assert (parts.scheme, parts.netloc) == ("https", HOST)


@pytest.fixture
def oidc_app(db_url: str, clock: FixedClock) -> Iterator[dash.Dash]:
    """Auth mode oidc with the provider at a closed port (sign-in starts answer 502)."""
    settings = oidc_settings(db_url, public_url=BASE_URL, auth_signin_limit=10**6)
    svc = Services.build(settings, clock=clock)
    app = create_app(settings, services=svc)
    app.server.config["PROPAGATE_EXCEPTIONS"] = True
    app.server.test_client_class = HttpsClient
    yield app
    svc.engine.dispose()


def _requests() -> st.SearchStrategy[tuple[str, str, dict[str, str]]]:
    """(method, path with query, headers) across every surface that reads sign-in input."""
    value = st.one_of(header_text(), hostile_text(), edge_text())
    q = value.map(lambda v: quote(v, safe="", errors="surrogatepass"))  # any bytes a URL holds
    paths = st.one_of(
        st.sampled_from(
            [
                "/",
                "/logs?range=24h",
                "/_dash-layout",
                "/export/job-runs.csv",
                "/export/athena/q-1.csv",
                "/metrics",
                "/api/uploads",
            ]
        ),
        next_values().map(lambda n: f"/auth/login?next={quote(n, '', errors='surrogatepass')}"),
        st.tuples(q, q).map(lambda sc: f"/auth/callback?state={sc[0]}&code={sc[1]}"),
        q.map(lambda e: f"/auth/callback?state=&error={e}"),
        q.map(lambda t: f"/kiosk/enrol?t={t}"),
        q.map(lambda t: f"/kiosk/enrol?t=smd_s_{t}"),
    )
    bearer = st.one_of(
        header_text(),
        header_text().map(lambda t: f"Bearer {t}"),
        header_text().map(lambda t: f"Bearer smd_a_{t}"),
        st.sampled_from(["9" * 5000, "x" * 300, "²"]).map(lambda t: f"Bearer smd_a_{t}"),
    )
    cookie = st.one_of(header_text(), st.sampled_from(["smd_s_x", "a" * 129]))
    headers = st.fixed_dictionaries(
        {},
        optional={
            "Authorization": bearer,
            "Cookie": st.tuples(
                st.sampled_from([cookies.SESSION, cookies.SIGNIN, "session"]), cookie
            ).map(lambda nv: f"{nv[0]}={nv[1]}"),
            "Origin": st.sampled_from([BASE_URL, "https://evil.example", "null"]),
            "Sec-Fetch-Site": st.sampled_from(["same-origin", "cross-site", "none"]),
        },
    )
    methods = st.sampled_from(["GET", "GET", "POST", "HEAD"])
    return st.tuples(methods, paths, headers)


def test_no_sign_in_input_gets_a_500_an_open_redirect_or_a_session(oidc_app: dash.Dash) -> None:
    sessions = services(oidc_app.server).sessions
    client = oidc_app.server.test_client()

    @settings(max_examples=examples(300))
    @given(request=_requests())
    @example(request=("GET", "/auth/login?next=%2F%09%2Fevil.example", {}))
    @example(request=("GET", "/kiosk/enrol?t=smd_s_%00", {}))
    @example(request=("GET", "/export/job-runs.csv", {"Authorization": "Bearer smd_a_\x00"}))
    def check(request: tuple[str, str, dict[str, str]]) -> None:
        method, path, headers = request
        response = client.open(path, method=method, headers=headers)
        assert response.status_code in (302, 303, 400, 401, 403, 405, 429, 502), (
            response.status_code,
            response.get_data(as_text=True)[:300],
        )
        _assert_stays_here(response)
        assert cookies.SESSION + "=" not in "".join(
            v for v in response.headers.getlist("Set-Cookie") if "Max-Age=0" not in v
        )
        assert set(row_counts(sessions, *EARNED).values()) == {0}

    check()
    with sessions() as s:
        outcomes = set(s.scalars(select(AuditEntry.outcome)))
    assert outcomes <= {"denied", "error"}  # the refusals, audited; nothing let through


@pytest.fixture
def keys() -> Keys:
    return Keys()


def _proxy_app(db_url: str, clock: FixedClock, keys: Keys, **overrides: Any) -> dash.Dash:
    settings = proxy_settings(db_url, **overrides)
    svc = Services.build(settings, clock=clock)
    app = create_app(settings, services=svc)
    app.server.extensions[PROXY_KEY] = ProxyIdentity(settings, fetch=keys.fetch)
    app.server.config["PROPAGATE_EXCEPTIONS"] = True
    app.server.test_client_class = HttpsClient
    return app


ADDRESSES = [PROXY_ADDR, STRANGER, "", "not-an-address", "::1", "10.0.255.255", "10.1.0.1"]


def test_oauth2_proxy_headers_sign_in_only_from_a_trusted_address(
    db_url: str, clock: FixedClock, keys: Keys
) -> None:
    app = _proxy_app(db_url, clock, keys)
    sessions = services(app.server).sessions
    client = app.server.test_client()
    header = st.one_of(header_text(), st.sampled_from(["staff", "platform,staff", "data-eng"]))

    @settings(max_examples=examples(200))
    @given(
        addr=st.sampled_from(ADDRESSES),
        headers=st.fixed_dictionaries(
            {},
            optional={
                name: header
                for name in (
                    "X-Forwarded-User",
                    "X-Forwarded-Email",
                    "X-Forwarded-Groups",
                    "X-Forwarded-Preferred-Username",
                    "X-Forwarded-For",
                )
            },
        ),
        path=st.sampled_from(["/", "/_dash-layout", "/export/job-runs.csv"]),
    )
    def check(addr: str, headers: dict[str, str], path: str) -> None:
        response = client.get(
            path, headers={**ORIGIN, **headers}, environ_overrides={"REMOTE_ADDR": addr}
        )
        assert response.status_code in (200, 400, 401, 403), response.get_data(as_text=True)[:300]
        if addr not in (PROXY_ADDR, "10.0.255.255"):
            assert response.status_code == 401  # only a trusted proxy's word counts
        _assert_stays_here(response)
        assert set(row_counts(sessions, *EARNED).values()) == {0}

    check()


def _segment(value: Any) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).decode()


def alb_tokens(exp: int) -> st.SearchStrategy[str]:
    """x-amzn-oidc-data values: text, and JWS-shaped tokens whose header is any JSON, or the
    ALB's header with one field wrong, and whose signature is never the ALB's."""
    good = {"alg": "ES256", "kid": "alb-1", "signer": ARN, "iss": ISS, "client": CLIENT, "exp": exp}
    field = st.sampled_from(sorted(good))
    altered = st.tuples(field, json_values(2)).map(lambda kv: {**good, kv[0]: kv[1]})
    headers = st.one_of(json_values(3), st.just(good), altered)
    payloads = st.one_of(json_values(3), st.just({"sub": "s", "groups": ["platform"]}))
    signature = st.one_of(st.binary(max_size=80), st.just(b""))
    shaped = st.tuples(headers, payloads, signature).map(
        lambda hps: ".".join((_segment(hps[0]), _segment(hps[1]), _segment(hps[2])))
    )
    return st.one_of(header_text(), shaped)


def test_an_alb_token_not_signed_by_the_alb_signs_nobody_in(
    db_url: str, clock: FixedClock, keys: Keys
) -> None:
    app = _proxy_app(
        db_url,
        clock,
        keys,
        auth_alb_signer_arns=(ARN,),
        auth_alb_issuer=ISS,
        auth_alb_client_id=CLIENT,
        auth_role_claim="groups",
    )
    sessions = services(app.server).sessions
    client = app.server.test_client()
    exp = int((clock.now() + timedelta(minutes=2)).timestamp())

    @settings(max_examples=examples(200))
    @given(token=alb_tokens(exp), addr=st.sampled_from([PROXY_ADDR, STRANGER]))
    @example(token=f"{_segment([])}.{_segment({})}.{_segment(b'x')}", addr=PROXY_ADDR)
    @example(token=f"{_segment('ES256')}.{_segment({})}.{_segment(b'x')}", addr=PROXY_ADDR)
    def check(token: str, addr: str) -> None:
        response = client.get(
            "/_dash-layout",
            headers={**ORIGIN, "x-amzn-oidc-data": token},
            environ_overrides={"REMOTE_ADDR": addr},
        )
        assert response.status_code == 401, response.get_data(as_text=True)[:300]
        assert set(row_counts(sessions, *EARNED).values()) == {0}

    check()


def test_a_sign_in_link_sends_the_browser_only_to_this_site(fuzz_app: dash.Dash) -> None:
    """Where sign-in needs no provider (auth mode none) `/auth/login` redirects straight to
    `next`: the redirect itself, Location header and all, stays on this site."""
    client = fuzz_app.server.test_client()

    @settings(max_examples=examples(200))
    @given(value=next_values())
    def check(value: str) -> None:
        path = f"/auth/login?next={quote(value, '', errors='surrogatepass')}"
        response = client.get(path, base_url=BASE_URL)
        assert response.status_code == 302
        _assert_stays_here(response)

    check()


@settings(max_examples=examples(300))
@given(
    path=st.one_of(
        st.sampled_from(["/_dash-update-component", "/wall", "/logs", "/export/x"]), edge_text()
    ),
    method=st.sampled_from(["GET", "POST", "HEAD"]),
    body=st.one_of(
        json_values(3),
        st.fixed_dictionaries(
            {
                "output": st.one_of(
                    edge_text(),
                    json_values(1),
                    st.sampled_from(
                        [
                            "..wall-clock.children...x.y..",
                            '..{"type":"a"}.b...{bad.c..',
                            "{}.x",
                            "...",
                        ]
                    ),
                )
            }
        ),
    ),
)
def test_a_wall_screen_request_is_allowed_or_not_never_an_error(
    path: str, method: str, body: Any
) -> None:
    """A device held to /wall may send any body to the callback route: which outputs it
    names decides, and a body that names none of the wall's is refused."""
    page_ids = {"/wall": {"wall-clock", "smd-refresh", "a"}}
    allowed = device_scope.allowed(path, method, "/wall", page_ids, body)
    assert isinstance(allowed, bool)
    if allowed and path == device_scope.UPDATE:
        ids = device_scope.output_ids(str(body.get("output", "")))
        assert ids and set(ids) <= page_ids["/wall"]
