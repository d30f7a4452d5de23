"""The cookies sign-in sets: names and attributes in one place.

`__Host-` makes the browser insist on Secure, Path=/ and no Domain, so neither a
sibling subdomain nor plain HTTP can plant or read them; HttpOnly keeps them from
scripts; SameSite=Lax keeps them off cross-site POSTs while still letting the
provider's redirect back (a top-level GET) carry the sign-in cookie.
"""

from __future__ import annotations

from flask import Request, Response

SESSION = "__Host-smd-session"
SIGNIN = "__Host-smd-signin"  # the sign-in under way (state, nonce, PKCE live server-side)
SIGNIN_MAX_AGE_S = 600


def set_cookie(response: Response, name: str, value: str, max_age_s: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max(0, int(max_age_s)),
        path="/",
        secure=True,
        httponly=True,
        samesite="Lax",
    )


def clear_cookie(response: Response, name: str) -> None:
    response.delete_cookie(name, path="/", secure=True, httponly=True, samesite="Lax")


def read(request: Request, name: str) -> str:
    return request.cookies.get(name, "")
