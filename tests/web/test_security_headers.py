"""Security headers: every inline script the index page carries is allowed by its hash and
nothing else inline is; framing is refused; HSTS only over TLS."""

from __future__ import annotations

import re

import dash

from dashapp.web.security_headers import script_hash


def _script_src(policy: str) -> list[str]:
    (directive,) = [d.strip() for d in policy.split(";") if d.strip().startswith("script-src")]
    return directive.split()[1:]


def test_each_inline_script_of_the_page_is_allowed_by_hash_and_nothing_broader(
    app: dash.Dash,
) -> None:
    client = app.server.test_client()
    response = client.get("/")
    html = response.get_data(as_text=True)
    allowed = _script_src(response.headers["Content-Security-Policy"])
    assert (
        "'unsafe-inline'" not in allowed and "'unsafe-eval'" not in allowed and "*" not in allowed
    )
    inline = [
        body
        for attrs, body in re.findall(r"<script([^>]*)>(.*?)</script>", html, re.S)
        if "src=" not in attrs and "application/json" not in attrs
    ]
    assert len(inline) >= 3  # theme/kiosk pre-paint, Dash's clientside setup, its renderer
    assert {script_hash(body) for body in inline} == set(allowed) - {"'self'"}


def test_framing_is_refused_and_hsts_is_sent_only_over_tls(app: dash.Dash) -> None:
    client = app.server.test_client()
    plain = client.get("/healthz")
    assert plain.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in plain.headers["Content-Security-Policy"]
    assert plain.headers["X-Content-Type-Options"] == "nosniff"
    assert "Strict-Transport-Security" not in plain.headers
    tls = client.get("/healthz", base_url="https://dash.example")
    assert tls.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
