"""AG Grid's block requests and the log viewer's URL parameters under random payloads.

`getRowsRequest` arrives from the browser as JSON: a crafted one must be refused with
`GridRequestError` (shown as "Filter not applied: …"), never raise, and one that is
accepted must run as SQL on both databases.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session, sessionmaker

from dashapp.queries import logs, run_grid
from tests.reliability.conftest import NOW, examples
from tests.reliability.outcomes import attempt
from tests.reliability.strategies import edge_ints, edge_text, iso_text, json_values
from tests.web.seed import job_run

JOB = "sales-orders-ingest"
FILTER_TYPES = ["contains", "notContains", "equals", "notEqual", "startsWith", "endsWith",
                "lessThan", "lessThanOrEqual", "greaterThan", "greaterThanOrEqual", "inRange",
                "blank", "notBlank", "regex"]  # fmt: skip


def _condition() -> st.SearchStrategy[dict[str, Any]]:
    value = st.one_of(json_values(4), iso_text(), edge_ints())
    return st.fixed_dictionaries(
        {"type": st.sampled_from(FILTER_TYPES)},
        optional={
            "filter": value,
            "filterTo": value,
            "dateFrom": st.one_of(iso_text(), json_values(2)),
            "dateTo": st.one_of(iso_text(), json_values(2)),
            "filterType": st.sampled_from(["text", "number", "date"]),
        },
    )


def _column_model() -> st.SearchStrategy[Any]:
    combined = st.fixed_dictionaries(
        {"conditions": st.one_of(st.lists(_condition(), max_size=3), json_values(3))},
        optional={"operator": st.one_of(st.sampled_from(["AND", "OR", "or"]), json_values(1))},
    )
    return st.one_of(_condition(), combined, json_values(3))


def grid_requests() -> st.SearchStrategy[Any]:
    columns = st.one_of(st.sampled_from([*run_grid.GRID_FIELDS, "state"]), edge_text())
    sort_item = st.one_of(
        st.fixed_dictionaries(
            {"colId": columns, "sort": st.one_of(st.sampled_from(["asc", "desc"]), edge_text())}
        ),
        json_values(2),
    )
    shaped = st.fixed_dictionaries(
        {},
        optional={
            "startRow": st.one_of(edge_ints(), json_values(1)),
            "endRow": st.one_of(edge_ints(), json_values(1)),
            "sortModel": st.one_of(st.lists(sort_item, max_size=3), json_values(2)),
            "filterModel": st.one_of(
                st.dictionaries(columns, _column_model(), max_size=3), json_values(2)
            ),
        },
    )
    return st.one_of(st.none(), shaped, json_values(4))


def _grid_fuzz(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        s.add(job_run("jr_1", JOB, "FAILED", NOW - timedelta(hours=1), rows_read=5))

    @settings(max_examples=examples(250))
    @given(raw=grid_requests())
    @example(raw={"startRow": float("inf")})
    @example(raw={"startRow": 10**30})
    @example(raw={"endRow": -(2**63) - 1})
    @example(raw={"sortModel": "started_at"})
    @example(raw={"filterModel": ["state"]})
    @example(raw={"filterModel": {"state": "FAILED"}})
    @example(raw={"filterModel": {"state": {"conditions": [1]}}})
    @example(raw={"filterModel": {"attempt": {"type": "equals", "filter": 10**400}}})
    @example(raw={"filterModel": {"attempt": {"type": "equals", "filter": 2**63}}})
    @example(raw={"filterModel": {"started_at": {"type": "equals", "dateFrom": "9999-12-31"}}})
    @example(
        raw={
            "filterModel": {
                "started_at": {"type": "lessThan", "dateFrom": "0001-01-01T00:00+01:00"}
            }
        }
    )
    @example(raw={"filterModel": {"state": {"type": "equals", "filter": "a\x00"}}})
    @example(raw={"filterModel": {"state": {"type": "contains", "filter": "\ud800"}}})
    def check(raw: Any) -> None:
        req, refused = attempt(lambda: run_grid.parse_grid_request(raw), run_grid.GridRequestError)
        if refused is not None:
            assert str(refused).strip()
            return
        assert 0 <= req.start < req.end <= req.start + run_grid.MAX_PAGE
        with sessions() as session:
            page = run_grid.run_page(session, JOB, NOW - timedelta(days=1), NOW, req)
        assert len(page.rows) <= req.end - req.start

    check()


def test_a_grid_request_is_a_block_of_rows_or_a_refusal(sessions: sessionmaker[Session]) -> None:
    _grid_fuzz(sessions)


@settings(max_examples=examples(200))
@given(run=st.one_of(st.none(), edge_text()), function=st.one_of(st.none(), edge_text()))
def test_a_log_source_from_the_url_is_one_source_or_a_sentence(run, function) -> None:
    source, refused = attempt(lambda: logs.parse_source(run, function), logs.LogViewError)
    if refused is not None:
        assert str(refused).strip()
        return
    if source is not None:
        assert source.name.strip() == source.name and source.name
        assert logs.source_from_value(f"{source.kind}:{source.name}") == source


@settings(max_examples=examples(200))
@given(q=st.one_of(st.none(), edge_text()), message=edge_text())
@example(q="ß", message="STRASSE strasse ß")
@example(q="İ", message="i̇stanbul İstanbul")
def test_search_highlights_only_what_matches_and_loses_nothing(q, message) -> None:
    query = logs.normalise_query(q)
    assert query is None or (query == query.strip() and query)
    parts = logs.highlight_parts(message, query)
    assert "".join(text for text, _ in parts) == message
