"""The run history grid: AG Grid's infinite row model (sort, filter, block) → one SQL query.

Only the columns in `GRID_COLUMNS` can be sorted or filtered, and a request naming
anything else is refused (`GridRequestError`), so a crafted request cannot reach
other columns; pages are capped at `MAX_PAGE` rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    func,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import Session

from dashapp.clock import as_utc
from dashapp.models import (
    JobRun,
)
from dashapp.queries.runs import RUN_COLUMNS
from dashapp.queries.sql import like_pattern
from dashapp.storable import storable_text

MAX_PAGE = 500  # grid rows per request
MAX_ROW = 10**9  # far past any job's history, and inside every database's integer range


class GridRequestError(ValueError):
    """A grid request naming a column or operator we do not serve."""


# Grid column id → (model column, filter kind). Only these can be sorted or filtered.
_FILTER_KINDS = {
    "started_at": "date",
    "completed_at": "date",
    "duration_s": "number",
    "dpu_seconds": "number",
    "rows_read": "number",
    "rows_written": "number",
    "attempt": "number",
}
GRID_COLUMNS: dict[str, tuple[Any, str]] = {
    name: (column, _FILTER_KINDS.get(name, "text")) for name, column in RUN_COLUMNS.items()
}
GRID_FIELDS = tuple(GRID_COLUMNS)


@dataclass(frozen=True)
class GridRequest:
    """A validated block request: rows [start, end), sort keys and SQL filter criteria."""

    start: int
    end: int
    sort: tuple[tuple[str, bool], ...] = ()  # (column id, descending)
    filters: tuple[ColumnElement[bool], ...] = ()
    state_equals: str | None = None  # set when the only filter is state = X (export can say it)
    filtered: bool = False


def _grid_time(value: Any, col_id: str, days_after: int = 0) -> datetime:
    try:
        parsed = datetime.fromisoformat(str(value).strip().replace(" ", "T", 1))
        return as_utc(parsed) + timedelta(days=days_after)
    except ValueError:
        raise GridRequestError(f"{col_id}: {value!r} is not a date") from None
    except OverflowError:  # an offset or the next day past the years 1 to 9999
        raise GridRequestError(f"{col_id}: {value!r} is outside the years 1 to 9999") from None


def _number(value: Any, col_id: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise GridRequestError(f"{col_id}: {value!r} is not a number") from None
    if math.isnan(number) or math.isinf(number):
        raise GridRequestError(f"{col_id}: {value!r} is not a finite number")
    return number


def _condition(col_id: str, column: Any, kind: str, cond: Mapping[str, Any]) -> ColumnElement[bool]:
    op = cond.get("type")
    if op == "blank":
        return column.is_(None) if kind != "text" else or_(column.is_(None), column == "")
    if op == "notBlank":
        return column.is_not(None) if kind != "text" else and_(column.is_not(None), column != "")
    if kind == "text":
        raw = cond.get("filter")
        if not isinstance(raw, str | int | float):
            raise GridRequestError(f"{col_id}: a text filter needs a value")
        value = storable_text(str(raw))  # a NUL or a lone surrogate would fail the query
        lowered = func.lower(column)
        inside = lowered.like(like_pattern(value), escape="\\")
        ops: dict[str, ColumnElement[bool]] = {
            "contains": inside,
            "notContains": or_(column.is_(None), not_(inside)),
            "equals": lowered == value.lower(),
            "notEqual": or_(column.is_(None), lowered != value.lower()),
            "startsWith": lowered.like(like_pattern(value, start=False), escape="\\"),
            "endsWith": lowered.like(like_pattern(value, end=False), escape="\\"),
        }
    elif kind == "number":
        value_n = _number(cond.get("filter"), col_id)
        ops = {
            "equals": column == value_n,
            "notEqual": or_(column.is_(None), column != value_n),
            "lessThan": column < value_n,
            "lessThanOrEqual": column <= value_n,
            "greaterThan": column > value_n,
            "greaterThanOrEqual": column >= value_n,
        }
        if op == "inRange":
            return and_(column >= value_n, column <= _number(cond.get("filterTo"), col_id))
    else:
        start = _grid_time(cond.get("dateFrom"), col_id)
        if op == "inRange":
            return and_(column >= start, column < _grid_time(cond.get("dateTo"), col_id))
        day_end = _grid_time(cond.get("dateFrom"), col_id, days_after=1)
        ops = {
            # AG Grid's date filter compares whole days.
            "equals": and_(column >= start, column < day_end),
            "notEqual": or_(column.is_(None), column < start, column >= day_end),
            "lessThan": column < start,
            "greaterThan": column >= day_end,
        }
    if op not in ops:
        raise GridRequestError(f"{col_id}: the {kind} filter has no operator {op!r}")
    return ops[op]


def _column_filter(col_id: str, model: Any) -> ColumnElement[bool]:
    if col_id not in GRID_COLUMNS:
        raise GridRequestError(f"cannot filter on {col_id!r}")
    column, kind = GRID_COLUMNS[col_id]
    if not isinstance(model, Mapping):
        raise GridRequestError(f"{col_id}: a filter must be an object")
    if "conditions" in model:
        conditions = model["conditions"]
        if not isinstance(conditions, list) or not all(isinstance(c, Mapping) for c in conditions):
            raise GridRequestError(f"{col_id}: conditions must be a list of filters")
        parts = [_condition(col_id, column, kind, c) for c in conditions]
        if not parts:
            raise GridRequestError(f"{col_id}: empty condition list")
        return or_(*parts) if str(model.get("operator", "AND")).upper() == "OR" else and_(*parts)
    return _condition(col_id, column, kind, model)


def parse_grid_request(raw: Mapping[str, Any] | None, page_size: int = 100) -> GridRequest:
    """Validate AG Grid's `getRowsRequest` (startRow, endRow, sortModel, filterModel).

    Unknown columns and operators raise `GridRequestError`; blocks are capped at
    `MAX_PAGE` rows so no request can pull the whole table into the browser.
    """
    raw = raw or {}
    if not isinstance(raw, Mapping):
        raise GridRequestError("a block request must be an object")
    try:
        start = max(0, int(raw.get("startRow") or 0))
        end = int(raw.get("endRow") or start + page_size)
    except (TypeError, ValueError, OverflowError):
        raise GridRequestError("startRow and endRow must be integers") from None
    if start > MAX_ROW:
        raise GridRequestError(f"startRow must be at most {MAX_ROW:,}")
    end = min(max(end, start + 1), start + MAX_PAGE)
    sort_model = raw.get("sortModel") or []
    if not isinstance(sort_model, list) or not all(isinstance(i, Mapping) for i in sort_model):
        raise GridRequestError("sortModel must be a list of {colId, sort}")
    sort: list[tuple[str, bool]] = []
    for item in sort_model:
        col_id = item.get("colId")
        if not isinstance(col_id, str) or col_id not in GRID_COLUMNS:
            raise GridRequestError(f"cannot sort on {col_id!r}")
        direction = item.get("sort")
        if direction not in ("asc", "desc"):
            raise GridRequestError(f"{col_id}: sort must be asc or desc")
        sort.append((col_id, direction == "desc"))
    model = raw.get("filterModel") or {}
    if not isinstance(model, Mapping):
        raise GridRequestError("filterModel must be an object")
    filters = tuple(_column_filter(col_id, m) for col_id, m in model.items())
    state_only = None
    if list(model) == ["state"] and model["state"].get("type") == "equals":
        state_only = str(model["state"].get("filter", "")).upper() or None
    return GridRequest(start, end, tuple(sort), filters, state_only, filtered=bool(model))


@dataclass(frozen=True)
class GridPage:
    """One block of rows; `last_row` is the total once the end is reached, else None."""

    rows: list[dict[str, Any]]
    last_row: int | None


def grid_statement(
    job_name: str, since: datetime, until: datetime, req: GridRequest
) -> Select[Any]:
    """The SELECT of one block: the job's runs in the range, filtered, sorted, paged."""
    columns = [GRID_COLUMNS[c][0] for c in GRID_FIELDS]
    stmt = select(*columns).where(
        JobRun.job_name == job_name,
        JobRun.started_at >= since,
        JobRun.started_at < until,
        *req.filters,
    )
    order: list[Any] = []
    for col_id, desc in req.sort:
        column = GRID_COLUMNS[col_id][0]
        # Nulls last both ways, the same on PostgreSQL and SQLite.
        order.extend([column.is_(None), column.desc() if desc else column.asc()])
    order.extend([JobRun.started_at.desc(), JobRun.run_id.desc()])
    # One row more than asked tells whether another block exists, without COUNT(*).
    return stmt.order_by(*order).offset(req.start).limit(req.end - req.start + 1)


def run_page(
    session: Session, job_name: str, since: datetime, until: datetime, req: GridRequest
) -> GridPage:
    """The rows AG Grid asked for, as JSON-ready dicts (ISO 8601 UTC times)."""
    fetched = list(session.execute(grid_statement(job_name, since, until, req)))
    wanted = req.end - req.start
    rows = [_grid_row(r) for r in fetched[:wanted]]
    last = req.start + len(rows) if len(fetched) <= wanted else None
    return GridPage(rows, last)


def _grid_row(row: Any) -> dict[str, Any]:
    values = dict(zip(GRID_FIELDS, row, strict=True))
    for key in ("started_at", "completed_at"):
        if values[key] is not None:
            v = as_utc(values[key])
            values[key] = v.strftime("%Y-%m-%dT%H:%M:%SZ")
    return values
