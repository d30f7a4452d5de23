"""A query's result, a 1,000-row page at a time, for the grid's infinite row model.

GetQueryResults pages only forward, with a NextToken per page. Every token read is
kept in `athena_result_tokens`, so a block the grid asks for again (or another
viewer's) starts from its own token; a block far ahead is reached by walking at most
`MAX_WALK` pages, and beyond that the user is pointed to the download. Tokens never
reach the browser, and at most one page of rows is in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from dashapp.aws import athena
from dashapp.db import upsert
from dashapp.models import AthenaQuery, AthenaResultToken

MAX_WALK = 25  # pages read to reach one block (25,000 rows)


@dataclass(frozen=True)
class Block:
    rows: list[dict[str, Any]]
    last_row: int | None  # the result's row count once its last page is read
    columns: list[dict[str, str]]
    note: str = ""


def _known_tokens(session: Session, execution_id: str, upto: int) -> dict[int, str]:
    rows = session.execute(
        select(AthenaResultToken.page, AthenaResultToken.token).where(
            AthenaResultToken.execution_id == execution_id, AthenaResultToken.page <= upto
        )
    )
    return {page: token for page, token in rows}


def _page(
    client: Any, execution_id: str, page_no: int, token: str | None, learned: dict[int, str]
) -> athena.ResultPage:
    page = athena.result_page(client, execution_id, token)
    if page.next_token:
        learned[page_no + 1] = page.next_token
    return page


def read_block(
    sessions: sessionmaker[Session], client: Any, execution_id: str, start_row: int
) -> Block:
    """The rows of the block starting at `start_row` (a multiple of 1,000) as grid rows.

    Athena's first page spends one of its 1,000 rows on the header, so data row r is row
    (r + 1) % 1000 of page (r + 1) // 1000: block k is page k's rows after its first
    (all of page 0's) and the first row of page k + 1.
    """
    block_no = max(0, start_row) // athena.PAGE_ROWS
    with sessions() as session:
        query = session.get(AthenaQuery, execution_id)
        if query is None or query.state != "SUCCEEDED":
            return Block([], 0, [], "The query has no result to show.")
        tokens = _known_tokens(session, execution_id, block_no)
    start = max([p for p in tokens if p <= block_no] or [0])
    if block_no - start > MAX_WALK:
        return Block([], None, [], "That far into the result, download it instead (the whole CSV).")
    learned: dict[int, str] = {}
    try:
        page = _page(client, execution_id, start, tokens.get(start), learned)
        current = start
        while current < block_no and page.next_token:
            current += 1
            page = _page(client, execution_id, current, page.next_token, learned)
        values = page.rows if current == 0 else page.rows[1:]
        following = None
        if current == block_no and page.next_token:
            following = _page(client, execution_id, current + 1, page.next_token, learned)
            values = values + following.rows[:1]
    except (ClientError, BotoCoreError) as e:
        # The grid asks again when scrolled; the tokens read before the failure stay unsaved.
        return Block([], None, [], f"Athena could not be read just now ({e}); scroll to retry.")
    columns = [{"name": c.name, "type": c.type} for c in page.columns]
    with sessions.begin() as session:
        upsert(
            session,
            AthenaResultToken,
            [{"execution_id": execution_id, "page": n, "token": t} for n, t in learned.items()],
            conflict=("execution_id", "page"),
        )
        if columns:
            stored = session.get(AthenaQuery, execution_id)
            if stored is not None and not stored.columns:
                stored.columns = columns
    first_row = block_no * athena.PAGE_ROWS
    if current < block_no:  # the result ends before the block asked for
        total = (
            len(page.rows) if current == 0 else (current * athena.PAGE_ROWS - 1) + len(page.rows)
        )
        return Block([], total, columns)
    rows = [grid_row(columns, v) for v in values]
    ends = following is None or (not following.next_token and len(following.rows) <= 1)
    last = first_row + len(rows) if ends else None
    return Block(rows, last, columns)


def field_name(index: int) -> str:
    """Grid fields are positional: result column names may repeat or hold dots."""
    return f"c{index}"


def grid_row(columns: list[dict[str, str]], values: list[str | None]) -> dict[str, Any]:
    return {field_name(i): v for i, v in enumerate(values)}
