"""`dashapp.db.upsert`, which every collector stores through: reading the same AWS data
again never duplicates a row, updates only the columns asked, and keeps the others."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from dashapp.db import upsert
from dashapp.models import LogEvent

T0 = datetime(2026, 12, 5, tzinfo=UTC)


def _rows(n: int, message: str, level: str = "INFO") -> list[dict[str, object]]:
    return [
        {
            "event_key": f"k{i}",
            "log_group": "/aws-glue/jobs/output",
            "log_stream": "jr_1",
            "ts": T0 + timedelta(seconds=i),
            "ingested_at": T0,
            "level": level,
            "message": f"{message} {i}",
        }
        for i in range(n)
    ]


def _stored(sessions: sessionmaker[Session]) -> dict[str, tuple[str, str]]:
    with sessions() as s:
        return {e.event_key: (e.level, e.message) for e in s.scalars(select(LogEvent))}


def test_rows_past_a_chunk_are_stored_once_however_often_they_are_written(sessions) -> None:
    with sessions.begin() as s:
        assert upsert(s, LogEvent, _rows(1203, "first"), conflict=["event_key"], chunk=500) == 1203
        upsert(s, LogEvent, _rows(1203, "again"), conflict=["event_key"], update=[], chunk=500)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(LogEvent)) == 1203
    assert _stored(sessions)["k1202"] == ("INFO", "first 1202"), "do nothing keeps the first"


def test_a_conflict_updates_only_the_columns_asked(sessions) -> None:
    with sessions.begin() as s:
        upsert(s, LogEvent, _rows(3, "first"), conflict=["event_key"])
    with sessions.begin() as s:
        upsert(s, LogEvent, _rows(3, "second", "ERROR"), conflict=["event_key"], update=["level"])
    assert _stored(sessions) == {f"k{i}": ("ERROR", f"first {i}") for i in range(3)}
    with sessions.begin() as s:
        upsert(s, LogEvent, _rows(4, "third", "WARN"), conflict=["event_key"])
    assert _stored(sessions) == {f"k{i}": ("WARN", f"third {i}") for i in range(4)}


def test_nothing_to_write_sends_nothing(sessions) -> None:
    with sessions.begin() as s:
        assert upsert(s, LogEvent, [], conflict=["event_key"]) == 0
