"""Callbacks of the Overview: tiles and cards on the refresh timer, filters, tiles, URL.

`overview_view` is the whole read: job overviews from the database (five indexed
queries whatever the number of jobs), then the pure steps of
`dashapp.queries.cards` (build, filter, order, total). Only the first page of
cards is drawn (medians and sparklines are read for those alone); "Show more" adds a
page, so the cost of a refresh follows what is on screen, not the size of the account.
A database error replaces the cards with the reason instead of leaving stale cards on
screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dash import Dash, Input, Output, State, ctx, no_update
from sqlalchemy.exc import SQLAlchemyError

from callbacks import payload
from callbacks.timerange import register_time_range
from callbacks.url_state import register_url_state
from dashapp.db import db_error_line
from dashapp.queries import cards as job_cards
from dashapp.queries import overview as overview_reads
from dashapp.services import Services, services
from dashapp.timerange import resolve_range
from dashapp.web import shared_answers
from layouts import shell
from layouts.timerange import range_ids
from pages import links
from pages.overview import cards as card_views
from pages.overview import layout as overview


@dataclass(frozen=True)
class OverviewView:
    """Everything the Overview callback writes."""

    tiles: dict[str, tuple[str, str]]
    cards: list[Any]
    count: str
    export_href: str
    tag_options: list[dict[str, str]]
    dataset_options: list[dict[str, str]]
    more_hidden: bool = True
    more_label: str = ""


def card_filter(
    status: str | None, tag: str | None, dataset: str | None, q: str | None
) -> job_cards.CardFilter:
    """The filter from the controls (blank means not filtering)."""

    def chosen(value: str | None) -> str | None:
        return None if not value or value == overview.ANY else value

    return job_cards.CardFilter(
        chosen(status), chosen(tag), chosen(dataset), (q or "").strip() or None
    )


def export_href(since: Any, until: Any, flt: job_cards.CardFilter) -> str:
    """The job-summary export of exactly these cards (the range pinned to absolute times)."""
    return links.job_summary_export(
        since, until, status=flt.status, tag=flt.tag, dataset=flt.dataset, q=flt.q
    )


def _options(blank: str, values: list[str]) -> list[dict[str, str]]:
    return [{"label": blank, "value": overview.ANY}] + [{"label": v, "value": v} for v in values]


def overview_view(
    svc: Services, range_value: str | None, flt: job_cards.CardFilter, limit: object = None
) -> OverviewView:
    """Tiles, cards (the first `limit`), count line, export link, filter options, "Show more"."""
    settings = svc.settings
    now = svc.clock.now()
    window, _ = resolve_range(range_value, now)  # the store only holds checked values
    limit = overview.card_limit(limit)
    try:
        with svc.sessions() as session:
            jobs = overview_reads.job_overviews(session, *window.bounds, details=False)
            synced = overview_reads.runs_synced(session)
            cards = job_cards.build_cards(
                jobs, settings.datasets, now, settings.dpu_hour_price, synced=synced
            )
            matching = job_cards.order_cards(job_cards.filter_cards(cards, flt))
            visible = matching[:limit]
            details = overview_reads.card_details(
                session, [c.name for c in visible], *window.bounds
            )
    except SQLAlchemyError as e:
        return OverviewView("", [overview.database_notice(db_error_line(e))], "", no_update, [], [])
    # Tiles describe the jobs the other filters leave, so pressing one never empties them.
    tile_cards = job_cards.filter_cards(
        cards, job_cards.CardFilter(None, flt.tag, flt.dataset, flt.q)
    )
    tags = sorted(
        {t for c in cards for t in job_cards.tag_labels(c.job.tags)} | {flt.tag or ""} - {""}
    )
    datasets = sorted({d.name for d in settings.datasets} | ({flt.dataset} - {None}))
    more_hidden, more_label = overview.more_button(len(visible), len(matching))
    return OverviewView(
        tiles=overview.tile_texts(job_cards.totals(tile_cards), settings.currency),
        cards=card_views.cards_grid(
            overview_reads.with_details(visible, details),
            now,
            window.value,
            settings.currency,
            bool(cards),
            syncing=not synced,
        ),
        count=overview.count_text(len(visible), len(matching), len(cards), window),
        export_href=export_href(*window.bounds, flt),
        tag_options=_options("Any tag", tags),
        dataset_options=_options("Any dataset", [d for d in datasets if d]),
        more_hidden=more_hidden,
        more_label=more_label,
    )


def next_limit(trigger: object, current: object) -> int:
    """Show more adds a page of cards; a new range or filter starts over at one page."""
    if trigger == overview.MORE:
        return overview.card_limit(overview.card_limit(current) + overview.CARDS_PAGE)
    return overview.CARDS_PAGE


def tile_toggle(key: str, current: str | None) -> str:
    """Pressing a tile shows only its jobs; pressing the active tile again shows all."""
    return overview.ANY if (current or "") == key else key


def register(app: Dash) -> None:
    """Wire the Overview: picker, URL, tiles and the data refresh."""
    register_time_range(app, overview.PAGE)
    rid = range_ids(overview.PAGE)
    register_url_state(app, overview.URL_STATE)

    keys = [k for k, _, _ in overview.TILE_SPECS]
    shared_answers.shareable(app, Output(overview.tile_id(keys[0], "value"), "children"))

    @app.callback(
        [Output(overview.tile_id(k, "value"), "children") for k in keys],
        [Output(overview.tile_id(k, "detail"), "children") for k in keys],
        Output(overview.CARDS, "children"),
        Output(overview.COUNT, "children"),
        Output(overview.EXPORT, "href"),
        Output(overview.TAG, "options"),
        Output(overview.DATASET, "options"),
        Output(overview.MORE, "hidden"),
        Output(overview.MORE, "children"),
        Input(shell.REFRESH, "n_intervals"),
        Input(rid.value, "data"),
        Input(overview.STATUS, "value"),
        Input(overview.TAG, "value"),
        Input(overview.DATASET, "value"),
        Input(overview.SEARCH, "value"),
        Input(overview.LIMIT, "data"),
    )
    def _refresh(
        _n: int | None,
        range_value: str | None,
        status: str | None,
        tag: str | None,
        dataset: str | None,
        q: str | None,
        limit: object,
    ) -> tuple[Any, ...]:
        text = payload.text
        flt = card_filter(text(status), text(tag), text(dataset), text(q))
        view = overview_view(services(), range_value, flt, limit)
        return (
            *[view.tiles[k][0] if view.tiles else "–" for k in keys],
            *[view.tiles[k][1] if view.tiles else "" for k in keys],
            view.cards,
            view.count,
            view.export_href,
            view.tag_options or no_update,
            view.dataset_options or no_update,
            view.more_hidden,
            view.more_label or no_update,
        )

    @app.callback(
        Output(overview.LIMIT, "data"),
        Input(overview.MORE, "n_clicks"),
        Input(rid.value, "data"),
        Input(overview.STATUS, "value"),
        Input(overview.TAG, "value"),
        Input(overview.DATASET, "value"),
        Input(overview.SEARCH, "value"),
        State(overview.LIMIT, "data"),
        prevent_initial_call=True,
    )
    def _limit(*args: Any) -> int:
        current = args[-1]
        new = next_limit(ctx.triggered_id, current)
        return no_update if new == current else new

    @app.callback(
        [Output(overview.tile_id(k), "aria-pressed") for k in overview.FILTER_TILES],
        [Output(overview.tile_id(k), "className") for k in overview.FILTER_TILES],
        [Output(overview.tile_id(k), "title") for k in overview.FILTER_TILES],
        Input(overview.STATUS, "value"),
    )
    def _pressed(status: str | None) -> tuple[str, ...]:
        states = [
            overview.tile_pressed(k, payload.text(status) or "") for k in overview.FILTER_TILES
        ]
        return tuple(part[i] for i in range(3) for part in states)

    @app.callback(
        Output(overview.STATUS, "value"),
        [Input(overview.tile_id(k), "n_clicks") for k in overview.FILTER_TILES],
        State(overview.STATUS, "value"),
        prevent_initial_call=True,
    )
    def _tile(*args: Any) -> str:
        current = args[-1]
        trigger = ctx.triggered_id
        if not isinstance(trigger, str):
            return no_update
        return tile_toggle(trigger.removeprefix("overview-tile-"), payload.text(current))
