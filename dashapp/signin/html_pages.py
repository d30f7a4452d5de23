"""The few pages sign-in serves itself, before there is a Dash app to show: signed out,
no role, and sign-in failed. Plain HTML with the shipped stylesheet and no script."""

from __future__ import annotations

from html import escape

from flask import Response

STYLESHEET = "/assets/vendor/bootstrap/css/bootstrap.min.css"
TITLE = "Serverless Management Dashboard"


def page(
    status: int, heading: str, paragraphs: list[str], link: tuple[str, str] | None
) -> Response:
    """A small page; every text is escaped here, so callers pass plain strings."""
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    if link is not None:
        href, label = link
        body += f'<p><a class="btn btn-primary" href="{escape(href)}">{escape(label)}</a></p>'
    html = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(heading)} · {TITLE}</title>"
        f'<link rel="stylesheet" href="{STYLESHEET}"></head>'
        f'<body><main class="container py-5" style="max-width:40rem">'
        f'<p class="text-body-secondary">{TITLE}</p><h1 class="h3">{escape(heading)}</h1>'
        f"{body}</main></body></html>"
    )
    return Response(
        html, status=status, mimetype="text/html", headers={"Cache-Control": "no-store"}
    )


def signed_out() -> Response:
    return page(200, "You have signed out", ["Your session has ended."], ("/auth/login", "Sign in"))


def no_role(user: str, groups: tuple[str, ...]) -> Response:
    shown = ", ".join(groups) if groups else "none"
    return page(
        403,
        "No access to the dashboard",
        [
            f"You signed in as {user}, but none of your groups gives a role here "
            f"(your groups: {shown}).",
            "Ask an administrator to add you to a group the dashboard maps to a role.",
        ],
        None,
    )


def failed(reason: str, status: int = 400) -> Response:
    return page(
        status,
        "Sign-in did not complete",
        [reason, "Start again; if it keeps failing, tell an administrator."],
        ("/auth/login", "Sign in again"),
    )
