"""System status (`/system`): is the collector keeping the data current, and on what.

Three sections: collector health (what `/readyz` judges), the database and its
schema revision, and the effective configuration (admins only; everyone else is
told which role it needs).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from dash import html

from dashapp.config import Settings, env_name
from dashapp.models import CollectorStatus
from dashapp.queries.system import DatabaseInfo, collector_age_s, is_collector_stale
from dashapp.web.humanize import duration, span
from layouts.components import Tone, badge, empty_state, loading, notice, time_ago
from pages import links

PATH = links.SYSTEM
NAME = "System status"
COLLECTORS = "system-collectors"
DATABASE = "system-database"
CONFIGURATION = "system-configuration"


def _section(title: str, anchor: str, content_id: str, what: str, intro: str) -> html.Section:
    heading_id = f"{anchor}-heading"
    return html.Section(
        [
            html.H2(title, id=heading_id, className="h4"),
            html.P(intro, className="text-body-secondary"),
            html.Div(loading(what), id=content_id),
        ],
        className="smd-section mb-5",
        **{"aria-labelledby": heading_id},
    )


def layout(**_query: str) -> html.Div:
    """The page skeleton; pages/system/callbacks.py fills each section."""
    return html.Div(
        [
            html.H1(NAME, className="h2"),
            html.P(
                "Whether the collector keeps the database current, and what this server runs with.",
                className="lead smd-lead",
            ),
            _section(
                "Collectors",
                "collectors",
                COLLECTORS,
                "collector status",
                "Each collector polls one AWS source on a schedule and records how its last "
                "cycle went. Pages show only what they have written.",
            ),
            _section(
                "Database",
                "database",
                DATABASE,
                "database status",
                "Where observed state is stored, and whether its schema matches this code.",
            ),
            _section(
                "Configuration",
                "configuration",
                CONFIGURATION,
                "configuration",
                "The effective settings of this web server, secrets hidden.",
            ),
        ]
    )


# --- collectors ---------------------------------------------------------------


def collector_health(
    status: CollectorStatus, now: datetime, stale_after_s: int
) -> tuple[str, Tone, str]:
    """(label, tone, icon): failing beats stale beats partial beats OK."""
    failing = status.last_outcome == "failed" or (
        status.last_error_at is not None
        and (status.last_success_at is None or status.last_error_at > status.last_success_at)
    )
    if failing:
        return "Failing", "danger", "x-octagon-fill"
    if is_collector_stale(status, now, stale_after_s):
        return "Stale", "warning", "exclamation-triangle-fill"
    if status.last_outcome == "partial":
        # Stored what it could; some resources failed (named under "Last error").
        return "Partial", "warning", "exclamation-circle-fill"
    return "OK", "success", "check-circle-fill"


def collectors_table(
    statuses: Sequence[CollectorStatus], now: datetime, stale_after_s: int
) -> html.Div | html.Table:
    """One row per collector, ages humanised with exact ISO times in tooltips."""
    if not statuses:
        return empty_state(
            "No collector has reported yet",
            [
                "Collectors write their status here after their first cycle. Start them with ",
                html.Code("python -m collectors"),
                " (or ",
                html.Code("make demo"),
                " for the local sandbox).",
            ],
            "hourglass-split",
        )
    head = html.Thead(
        html.Tr(
            [
                html.Th(h, scope="col", className="text-end" if h == "API calls" else None)
                for h in (
                    "Collector",
                    "Health",
                    "Last success",
                    "Last error",
                    "Cycle duration",
                    "API calls",
                    "Lag",
                )
            ]
        )
    )
    rows = [_collector_row(s, now, stale_after_s) for s in statuses]
    return html.Table(
        [
            html.Caption(
                f"Stale means no success in the last {span(stale_after_s)}.",
                className="text-body-secondary",
            ),
            head,
            html.Tbody(rows),
        ],
        className="table align-middle smd-collectors",
    )


def _collector_row(status: CollectorStatus, now: datetime, stale_after_s: int) -> html.Tr:
    label, tone, icon_name = collector_health(status, now, stale_after_s)
    age = collector_age_s(status, now)
    success: Any = time_ago(status.last_success_at, now) if status.last_success_at else "Never"
    if age is not None and age > stale_after_s:
        success = [success, html.Span(f" (limit {span(stale_after_s)})", className="small")]
    error: Any = "None"
    if status.last_error_at is not None:
        message = " ".join((status.last_error or "").split())
        error = [
            time_ago(status.last_error_at, now),
            html.Div(
                message[:160] + ("…" if len(message) > 160 else ""),
                className="small smd-error-text",
                title=message,
            )
            if message
            else None,
        ]
    api_calls = html.Span(
        f"{status.last_api_calls:,}",
        title=f"{status.api_calls_total:,} calls in {status.cycles_total:,} cycles",
    )
    return html.Tr(
        [
            html.Th(html.Code(status.name), scope="row"),
            html.Td(badge(label, tone, icon_name)),
            html.Td(success),
            html.Td(error),
            html.Td(
                duration(status.last_duration_s) if status.last_duration_s is not None else "—"
            ),
            html.Td(api_calls, className="text-end"),
            html.Td(duration(status.lag_s) if status.lag_s is not None else "—"),
        ]
    )


# --- database -----------------------------------------------------------------


def database_panel(info: DatabaseInfo) -> html.Div:
    """Backend, version and schema revision, with the fix when the schema is behind."""
    if info.revision is None:
        schema: Any = badge("Not migrated", "danger", "x-octagon-fill")
        advice: Any = notice(
            ["The database has no schema. Run ", html.Code("python -m dashapp db upgrade"), "."],
            "danger",
            "x-octagon-fill",
        )
    elif info.up_to_date:
        schema = [
            html.Code(info.revision),
            " ",
            badge("Up to date", "success", "check-circle-fill"),
        ]
        advice = None
    else:
        schema = [
            html.Code(info.revision),
            " ",
            badge("Behind", "warning", "exclamation-triangle-fill"),
        ]
        advice = notice(
            [
                f"This code expects revision {info.head}. Run ",
                html.Code("python -m dashapp db upgrade"),
                ".",
            ],
            "warning",
            "exclamation-triangle-fill",
        )
    rows = [
        ("Backend", f"{info.backend} {info.server_version}"),
        ("Schema revision", schema),
        ("Code expects", html.Code(info.head)),
    ]
    items: list[Any] = []
    for term, value in rows:
        items += [html.Dt(term, className="col-sm-3"), html.Dd(value, className="col-sm-9")]
    return html.Div([html.Dl(items, className="row mb-3"), advice])


# --- configuration --------------------------------------------------------------


def _value(value: Any) -> Any:
    """Scalars inline; long structures (the datasets) folded behind a one-line summary."""
    if value is None:
        return html.Span("not set", className="text-body-secondary")
    if not isinstance(value, list | dict):
        return html.Code(str(value))
    compact = json.dumps(value)
    if len(compact) <= 100:
        return html.Code(compact)
    names = [v.get("name") for v in value if isinstance(v, dict)] if isinstance(value, list) else []
    summary = f"{len(value)} entries"
    if names and all(isinstance(n, str) for n in names):
        summary += ": " + ", ".join(names)
    return html.Details(
        [
            html.Summary(summary),
            html.Pre(html.Code(json.dumps(value, indent=2)), className="smd-config-json mb-0"),
        ]
    )


def configuration_table(redacted: Mapping[str, Any]) -> html.Table:
    """Every setting with the variable that sets it; secrets arrive already hidden."""
    rows = []
    for name in Settings.model_fields:
        if name not in redacted:
            continue
        rows.append(
            html.Tr(
                [
                    html.Th(name, scope="row"),
                    html.Td(html.Code(env_name(name))),
                    html.Td(_value(redacted[name])),
                ]
            )
        )
    return html.Table(
        [
            html.Thead(
                html.Tr(
                    [
                        html.Th("Setting", scope="col"),
                        html.Th("Variable", scope="col"),
                        html.Th("Value", scope="col"),
                    ]
                )
            ),
            html.Tbody(rows),
        ],
        className="table table-sm align-top smd-config",
    )


def configuration_denied(message: str) -> html.Div:
    """What a viewer or operator sees instead of the configuration."""
    return notice(
        [
            html.Strong("The configuration needs the admin role. "),
            message,
        ],
        "secondary",
        "lock-fill",
    )
