"""What the Athena page draws from the database: the query's status, cost, schema, history.

Pure functions of rows (no session, no AWS), so tests call them directly. Money is
always shown with the bytes it was computed from, rounded as Athena bills.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dash import html

from dashapp.aws.athena import MB, billed_bytes, cost
from dashapp.clock import iso_z
from dashapp.models import AthenaQuery, CatalogTable, SavedQuery
from dashapp.queries.athena import CostTotals
from dashapp.web.humanize import duration, money
from layouts.components import Vocabulary, badge, badge_of, empty_state, icon, notice, time_ago
from pages import links

STATE_BADGES: Vocabulary = {
    "QUEUED": ("Queued", "secondary", "hourglass-split"),
    "RUNNING": ("Running", "info", "arrow-repeat"),
    "SUCCEEDED": ("Succeeded", "success", "check-circle-fill"),
    "FAILED": ("Failed", "danger", "x-octagon-fill"),
    "CANCELLED": ("Cancelled", "secondary", "stop-circle-fill"),
}


def size(n: int | None) -> str:
    """Bytes as a person reads them: '0 B', '12.4 MB', '1.20 TB'."""
    if not n:
        return "0 B"
    for unit, scale in (("TB", 1024**4), ("GB", 1024**3), ("MB", MB), ("KB", 1024)):
        if n >= scale:
            return f"{n / scale:,.{2 if unit == 'TB' else 1}f} {unit}"
    return f"{n} B"


def cost_text(scanned: int | None, tb_price: float) -> str:
    """'10.0 MB billed · 0.0000 USD' (the minimum), or 'nothing billed'."""
    billed = billed_bytes(scanned)
    if not billed:
        return "nothing billed"
    return f"{size(billed)} billed · {money(cost(scanned, tb_price), 'USD')}"


def status_panel(q: AthenaQuery | None, now: datetime, tb_price: float) -> Any:
    """The query's state, error, figures and what it cost, or how to get one."""
    if q is None:
        return empty_state(
            "No query open",
            "Write SQL above and press Run, or open a query from the history below.",
            "terminal",
        )
    facts: list[Any] = [
        badge_of(STATE_BADGES, q.state),
        html.Span(
            ["submitted ", time_ago(q.submitted_at, now), f" by {q.submitted_by}"],
            className="ms-2 small",
        ),
    ]
    figures = [
        ("Scanned", size(q.data_scanned_bytes)),
        ("Cost", cost_text(q.data_scanned_bytes, tb_price)),
        ("Engine time", duration((q.engine_ms or 0) / 1000) if q.engine_ms is not None else "–"),
        ("Database", q.database or "–"),
        ("Workgroup", q.workgroup or "–"),
    ]
    if q.reused_result:
        figures.append(("Result", "reused from an earlier run (nothing scanned)"))
    body: list[Any] = [
        html.Div(facts, className="d-flex align-items-center flex-wrap"),
        html.Dl(
            [item for label, value in figures for item in (html.Dt(label), html.Dd(value))],
            className="smd-athena-figures row-cols-auto small mt-2 mb-2",
        ),
        html.Div(["Query id ", html.Code(q.execution_id)], className="small text-body-secondary"),
    ]
    if q.state == "FAILED":
        body.append(notice(q.state_reason or "Athena gave no reason.", "danger", "x-octagon-fill"))
    elif q.state == "CANCELLED":
        body.append(
            notice(
                f"Cancelled. {cost_text(q.data_scanned_bytes, tb_price).capitalize()}.",
                "secondary",
                "stop-circle-fill",
            )
        )
    return html.Div(body)


def schema_tree(tables: Sequence[CatalogTable]) -> Any:
    """Tables → columns with types; partition keys marked in words, not only by colour."""
    if not tables:
        return empty_state(
            "No tables in the catalog yet",
            "The collector copies the Glue Data Catalog every few minutes.",
            "table",
        )
    items = []
    for t in tables:
        columns = [
            html.Li(
                [html.Code(c["name"]), html.Span(f" {c['type']}", className="text-body-secondary")]
            )
            for c in t.columns or []
        ] + [
            html.Li(
                [
                    html.Code(k["name"]),
                    html.Span(f" {k['type']} ", className="text-body-secondary"),
                    badge("partition key", "info", "signpost-split"),
                ]
            )
            for k in t.partition_keys or []
        ]
        items.append(
            html.Details(
                [
                    html.Summary([icon("table", "me-1"), t.name]),
                    html.Ul(columns, className="list-unstyled ms-3 small"),
                ]
            )
        )
    return html.Div(items)


def costs_line(totals: CostTotals, tb_price: float) -> Any:
    """Today's billed bytes and cost for the user and the team, and the last days'."""

    def money_of(billed: int) -> str:
        return money(billed / 1024**4 * tb_price, "USD")

    days = ", ".join(f"{day}: {size(b)} ({n})" for day, b, n in totals.per_day[:7]) or "none"
    return html.Div(
        [
            html.Span(
                f"You today: {totals.user_today_queries} quer"
                f"{'y' if totals.user_today_queries == 1 else 'ies'}, "
                f"{size(totals.user_today_bytes)} billed, {money_of(totals.user_today_bytes)}",
                className="me-3",
            ),
            html.Span(
                f"Team today: {totals.team_today_queries}, {size(totals.team_today_bytes)}, "
                f"{money_of(totals.team_today_bytes)}",
                className="me-3",
            ),
            html.Span(f"Last days (billed, queries): {days}", className="text-body-secondary"),
            html.Span(f" · at {tb_price:g} USD per TB", className="text-body-secondary"),
        ],
        className="small",
    )


def history_rows(queries: Sequence[AthenaQuery], tb_price: float) -> list[dict[str, Any]]:
    return [
        {
            "submitted": iso_z(q.submitted_at).replace("T", " ").removesuffix("Z"),
            "user": q.submitted_by,
            "state": q.state,
            "billed": size(billed_bytes(q.data_scanned_bytes)),
            "cost": money(cost(q.data_scanned_bytes, tb_price), "USD"),
            "sql": q.sql[:300],
            "open": f"[Open]({links.athena_href(q=q.execution_id)}) · "
            f"[Fork]({links.athena_href(fork=q.execution_id)})",
        }
        for q in queries
    ]


def saved_list(saved: Sequence[SavedQuery], user: str) -> Any:
    if not saved:
        return html.P("Nothing saved yet.", className="small text-body-secondary")
    return html.Ul(
        [
            html.Li(
                [
                    html.A(s.name, href=links.athena_href(saved=s.id)),
                    html.Span(
                        " · shared" if s.shared else " · private",
                        className="small text-body-secondary",
                    ),
                    html.Span(
                        f" · by {s.owner}" if s.owner != user else "",
                        className="small text-body-secondary",
                    ),
                ]
            )
            for s in saved
        ],
        className="list-unstyled small",
    )
