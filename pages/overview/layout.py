"""Overview (`/`): one card per Glue job, failed and late first, with summary tiles.

Each card reads as a status line a person can act on: what state the job is in
(icon and word, never colour alone), when it last ran and for how long against its
median, how many rows, its success rate over the range with a sparkline, what the
last run cost, and whether its data is on time. Tiles above count jobs by status
and filter the cards when pressed. All state (range, filters) lives in the URL, so
a copied link reopens the same view; the layout reads it from `**query`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp.queries.cards import Totals
from dashapp.timerange import DEFAULT_RANGE, TimeRange, normalise_range
from dashapp.web.humanize import money, percent
from layouts.components import icon, loading, notice
from layouts.timerange import range_ids, time_range_picker
from layouts.url_state import UrlState, url_stores
from pages import links

PATH = links.OVERVIEW
NAME = "Overview"
PAGE = "overview"

SEARCH = "overview-search"
STATUS = "overview-status"
TAG = "overview-tag"
DATASET = "overview-dataset"
TILES = "overview-tiles"
CARDS = "overview-cards"
COUNT = "overview-count"
EXPORT = "overview-export"

ANY = "all"  # the "no filter" choice of each select (an empty value renders blank)
MORE = "overview-more"
LIMIT = "overview-limit"

CARDS_PAGE = 24  # cards drawn at first; "Show more" adds this many
MAX_CARDS = 240  # beyond this the page asks to narrow the view (the export has them all)

STATUS_OPTIONS: tuple[tuple[str, str], ...] = (
    (ANY, "Any status"),
    ("failed", "Failed"),
    ("late", "Late"),
    ("running", "Running"),
    ("succeeded", "Succeeded"),
    ("stopped", "Stopped"),
    ("never", "Never run"),
)


URL_STATE = UrlState(
    PAGE,
    {
        "range": (range_ids(PAGE).value, "data"),
        "status": (STATUS, "value"),
        "tag": (TAG, "value"),
        "dataset": (DATASET, "value"),
        "q": (SEARCH, "value"),
    },
    defaults={
        "range": DEFAULT_RANGE,
        "status": ANY,
        "tag": ANY,
        "dataset": ANY,
    },
)


def layout(**query: str) -> html.Div:
    """The page with its controls set from the URL; its callbacks fill tiles and cards."""
    value, error = normalise_range(query.get("range"))
    return html.Div(
        [
            *url_stores(URL_STATE),
            html.Div(
                [
                    html.H1(NAME, className="h2 mb-0"),
                    html.A(
                        [icon("download", "me-1"), "Export job summary (CSV)"],
                        id=EXPORT,
                        href="/export/job-summary.csv",
                        download="",
                        className="btn btn-sm btn-outline-secondary",
                    ),
                ],
                className="d-flex flex-wrap justify-content-between align-items-center gap-2",
            ),
            html.P(
                "Every Glue job: failed and late ones first. Press a tile to show only those jobs.",
                className="lead smd-lead",
            ),
            html.Section(
                [
                    html.H2("Filters", className="visually-hidden", id="overview-filters-h"),
                    time_range_picker(PAGE, value, error),
                    filters(query),
                ],
                className="smd-controls mb-3",
                **{"aria-labelledby": "overview-filters-h"},
            ),
            html.Section(
                [
                    html.H2("Summary", className="visually-hidden", id="overview-summary-h"),
                    html.Div(tiles_skeleton(), id=TILES),
                ],
                **{"aria-labelledby": "overview-summary-h"},
            ),
            html.Section(
                [
                    html.H2("Jobs", className="visually-hidden", id="overview-jobs-h"),
                    html.P(id=COUNT, className="smd-count", role="status"),
                    html.Div(loading("jobs"), id=CARDS),
                    dcc.Store(id=LIMIT, data=CARDS_PAGE),
                    html.Button(
                        f"Show {CARDS_PAGE} more jobs",
                        id=MORE,
                        type="button",
                        hidden=True,
                        className="btn btn-outline-secondary mt-3",
                    ),
                ],
                **{"aria-labelledby": "overview-jobs-h"},
            ),
        ],
        className="smd-overview",
    )


def _select(id_: str, label: str, options: Sequence[tuple[str, str]], value: str) -> html.Div:
    return html.Div(
        [
            html.Label(label, htmlFor=id_, className="form-label small mb-0"),
            dbc.Select(
                id=id_,
                options=[{"label": text, "value": v} for v, text in options],
                value=value,
                size="sm",
            ),
        ],
        className="smd-filter",
    )


def filters(query: Mapping[str, str]) -> html.Div:
    """Search, status, tag and dataset, each labelled, set from the URL's values."""
    tag = query.get("tag") or ANY
    dataset = query.get("dataset") or ANY
    return html.Div(
        [
            html.Div(
                [
                    html.Label("Search jobs", htmlFor=SEARCH, className="form-label small mb-0"),
                    dcc.Input(
                        id=SEARCH,
                        type="search",
                        value=query.get("q", ""),
                        debounce=0.4,
                        placeholder="Name, tag or dataset",
                        className="form-control form-control-sm",
                    ),
                ],
                className="smd-filter smd-filter--search",
            ),
            _select(STATUS, "Status", STATUS_OPTIONS, query.get("status") or ANY),
            # Options arrive with the data; the URL's value is kept meanwhile.
            _select(TAG, "Tag", [(ANY, "Any tag"), *([(tag, tag)] if tag != ANY else [])], tag),
            _select(
                DATASET,
                "Dataset",
                [(ANY, "Any dataset"), *([(dataset, dataset)] if dataset != ANY else [])],
                dataset,
            ),
        ],
        className="d-flex flex-wrap align-items-end gap-3 mt-2",
    )


# --- tiles ------------------------------------------------------------------------------


# (key, label, icon); keyed tiles filter the cards, the rest only inform.
TILE_SPECS: tuple[tuple[str, str, str], ...] = (
    ("running", "Running", "arrow-repeat"),
    ("succeeded", "Succeeded", "check-circle-fill"),
    ("failed", "Failed", "x-octagon-fill"),
    ("late", "Late", "alarm-fill"),
    ("rate", "Success rate", "percent"),
    ("dpu", "DPU-hours", "cpu"),
    ("cost", "Cost", "cash-coin"),
)
FILTER_TILES = ("running", "succeeded", "failed", "late")


def tile_id(key: str, part: str = "") -> str:
    """Id of a tile (`part` '') or of its 'value' / 'detail' text."""
    return f"overview-tile-{key}" + (f"-{part}" if part else "")


def tiles_skeleton() -> html.Div:
    """The tiles, drawn once: the refresh only changes their numbers and pressed state,
    so a press is never lost to a re-render racing it."""
    items = []
    for key, label, icon_name in TILE_SPECS:
        body = [
            html.Span([icon(icon_name, "me-1"), label], className="smd-tile-label"),
            " ",  # the accessible name reads "Failed 1 jobs failing", not "Failed1jobs"
            html.Span("…", id=tile_id(key, "value"), className="smd-tile-value"),
            " ",
            html.Span("", id=tile_id(key, "detail"), className="smd-tile-detail"),
        ]
        if key in FILTER_TILES:
            items.append(
                html.Button(
                    body,
                    id=tile_id(key),
                    type="button",
                    className=f"smd-tile smd-tile--{key}",
                    title=f"Show only {label.lower()} jobs",
                    **{"aria-pressed": "false"},
                )
            )
        else:
            items.append(html.Div(body, className="smd-tile smd-tile--info"))
    return html.Div(items, className="smd-tiles")


def tile_texts(total: Totals, currency: str) -> dict[str, tuple[str, str]]:
    """Each tile's (value, detail)."""
    return {
        "running": (str(total.running), "jobs running now"),
        "succeeded": (str(total.succeeded), f"jobs OK · {total.runs_succeeded} runs"),
        "failed": (str(total.failed), f"jobs failing · {total.runs_failed} failed runs"),
        "late": (str(total.late), "jobs past their SLA"),
        "rate": (
            percent(total.success_rate),
            f"of {total.runs_succeeded + total.runs_failed} finished runs",
        ),
        "dpu": (f"{total.dpu_hours:,.2f}", "in the range"),
        "cost": (money(total.cost, currency), "in the range"),
    }


def tile_pressed(key: str, active: str) -> tuple[str, str, str]:
    """aria-pressed, class and tooltip of a filter tile given the active status filter."""
    pressed = key == active
    label = next(label for k, label, _ in TILE_SPECS if k == key)
    return (
        "true" if pressed else "false",
        f"smd-tile smd-tile--{key}" + (" active" if pressed else ""),
        "Show all jobs" if pressed else f"Show only {label.lower()} jobs",
    )


def card_limit(value: object) -> int:
    """How many cards to draw: the stored limit, whole pages between one page and the cap."""
    n = value if isinstance(value, int) else CARDS_PAGE
    return max(CARDS_PAGE, min(MAX_CARDS, n - n % CARDS_PAGE))


def count_text(shown: int, matching: int, total: int, time_range: TimeRange) -> str:
    """'12 of 40 jobs · Last 24 hours', saying when the page shows only the first ones."""
    text = f"{matching} of {total} jobs · {time_range.label}"
    if matching > shown:
        text += f" · showing the first {shown}"
        if shown >= MAX_CARDS:
            text += "; narrow the filters or export the rest"
    return text


def more_button(shown: int, matching: int) -> tuple[bool, str]:
    """(hidden, label) of "Show more": offered while jobs are left and the cap allows."""
    more = min(CARDS_PAGE, matching - shown, MAX_CARDS - shown)
    if more <= 0:
        return True, f"Show {CARDS_PAGE} more jobs"
    return False, f"Show {more} more job" + ("" if more == 1 else "s")


def database_notice(message: str) -> html.Div:
    """What the cards area says when the database cannot be read."""
    return notice(["Database unreachable: ", html.Code(message)], "danger", "x-octagon-fill")
