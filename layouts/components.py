"""Small building blocks every page uses: icons, times, state badges, empty states.

Status is never shown by colour alone: every badge and warning carries an icon
and a word, so it reads the same in both themes, in greyscale and to a screen
reader (icons are decorative and hidden from assistive technology).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from dash import html

from dashapp.clock import iso_z
from dashapp.web.humanize import ago

Tone = Literal["success", "danger", "warning", "info", "secondary"]
# A status vocabulary: value → (label, tone, icon); words and icons, never colour alone.
Vocabulary = Mapping[str, tuple[str, Tone, str]]

# Glue JobRunState values → (label, tone, icon).
_RUN_STATES: Vocabulary = {
    "SUCCEEDED": ("Succeeded", "success", "check-circle-fill"),
    "FAILED": ("Failed", "danger", "x-octagon-fill"),
    "ERROR": ("Error", "danger", "x-octagon-fill"),
    "TIMEOUT": ("Timed out", "danger", "hourglass-bottom"),
    "EXPIRED": ("Expired", "danger", "calendar-x"),
    "STARTING": ("Starting", "info", "play-circle"),
    "RUNNING": ("Running", "info", "arrow-repeat"),
    "WAITING": ("Waiting", "info", "pause-circle"),
    "STOPPING": ("Stopping", "secondary", "stop-circle"),
    "STOPPED": ("Stopped", "secondary", "stop-circle-fill"),
}


def icon(name: str, class_name: str = "") -> html.I:
    """A Bootstrap Icons glyph, hidden from screen readers (the text next to it speaks)."""
    return html.I(className=f"bi bi-{name} {class_name}".strip(), **{"aria-hidden": "true"})


def time_ago(value: datetime, now: datetime, class_name: str = "") -> html.Time:
    """'3 min ago', with the exact ISO 8601 UTC time as tooltip and machine-readable value."""
    exact = iso_z(value)
    return html.Time(
        ago((now - value).total_seconds()), dateTime=exact, title=exact, className=class_name
    )


def run_state(state: str) -> tuple[str, Tone, str]:
    """Label, tone and icon of a Glue run state (unknown states shown as they are)."""
    return _RUN_STATES.get(state.upper(), (state.title(), "secondary", "question-circle"))


def badge(label: str, tone: Tone, icon_name: str, **attrs: Any) -> html.Span:
    """A status pill: icon + word on a tone whose text colour passes WCAG AA."""
    return html.Span(
        [icon(icon_name, "me-1"), label],
        className=f"badge rounded-pill text-bg-{tone} smd-badge",
        **attrs,
    )


def badge_of(vocabulary: Vocabulary, value: str) -> html.Span:
    """The badge of a value in one status vocabulary (run states, card and upload statuses);
    a value the vocabulary does not know is shown as it is, never hidden."""
    label, tone, icon_name = vocabulary.get(value, (value.title(), "secondary", "question-circle"))
    return badge(label, tone, icon_name)


def state_badge(state: str) -> html.Span:
    """The badge of a Glue run state."""
    return badge_of(_RUN_STATES, state.upper())


def empty_state(title: str, body: Any, icon_name: str = "info-circle") -> html.Div:
    """An explained absence: what is missing and what makes it appear."""
    return html.Div(
        [
            icon(icon_name, "smd-empty-icon"),
            html.Div([html.P(title, className="fw-semibold mb-1"), html.P(body, className="mb-0")]),
        ],
        className="smd-empty d-flex gap-3 align-items-start",
    )


def loading(what: str) -> html.P:
    """What a data panel shows until its first callback answers."""
    return html.P([icon("hourglass-split", "me-2"), f"Loading {what}…"], className="smd-loading")


def notice(message: Any, tone: Tone, icon_name: str) -> html.Div:
    """A Bootstrap alert with an icon; not a live region (pages refresh on a timer)."""
    return html.Div(
        [icon(icon_name, "me-2 flex-shrink-0"), html.Div(message)],
        className=f"alert alert-{tone} d-flex align-items-start mb-0",
    )


def database_unreachable(message: str) -> html.Div:
    """What a data panel shows when its query failed: the panel stays, the cause is named."""
    return notice(["Database unreachable: ", html.Code(message)], "danger", "x-octagon-fill")


# AG Grid's Quartz theme on Bootstrap's colour variables: every grid follows light and dark mode.
GRID_THEME = {
    "function": (
        "themeQuartz.withParams({"
        "backgroundColor: 'var(--bs-body-bg)', foregroundColor: 'var(--bs-body-color)', "
        "headerBackgroundColor: 'var(--bs-tertiary-bg)', "
        "headerTextColor: 'var(--bs-emphasis-color)', "
        "borderColor: 'var(--bs-border-color)', accentColor: 'var(--smd-focus-ring)', "
        "oddRowBackgroundColor: 'var(--bs-body-bg)', "
        "fontFamily: 'inherit'})"
    )
}


def empty_grid_message(text: str) -> dict[str, Any]:
    """Grid options that make an empty grid say `text`, through AG Grid 35's own no-rows overlay
    (plain text, announced to screen readers). `overlayNoRowsTemplate` is an HTML string:
    dash-ag-grid blocks it as an XSS risk, logs a console error and the grid says nothing useful."""
    return {"overlayComponentParams": {"noRows": {"overlayText": text}}}


def paged_grid_options(empty_text: str, **extra: Any) -> dict[str, Any]:
    """Options of a grid whose rows all come at once: themed, grows with its rows (no
    inner scrollbar), pages of 50, rows in DOM order for screen readers and keyboard."""
    return {
        "theme": GRID_THEME,
        "domLayout": "autoHeight",
        "pagination": True,
        "paginationPageSize": 50,
        **empty_grid_message(empty_text),
        "ensureDomOrder": True,
        **extra,
    }
