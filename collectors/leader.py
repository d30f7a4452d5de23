"""Exactly one active collector: a PostgreSQL advisory lock, or a file lock next to SQLite.

The lock lives as long as the connection (or file descriptor) that took it, so a
collector that dies — however it dies — releases it, and a standby polling for it
takes over. The leader checks it still holds the lock every few seconds; if its
database connection is gone, so is the lock, and it stops collecting at once. Between
two checks a server restart can end the lock's session while the leader's writers
reconnect on their own: each commit therefore first asks the server whether the
session that took the lock still holds it (`held_as_seen_by`).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path
from typing import Protocol

from sqlalchemy import Engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import SQLAlchemyError

LOCK_NAME = "smd-collectors"


class LostLeadership(RuntimeError):
    """The leader lock this process took is gone: a write now could race the next leader."""


# Is the advisory lock with key :k held by the session {pid}? (bigint keys: high half in
# classid, low half in objid, objsubid 1).
_HELD_BY = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
    "AND pid = {pid} AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = :k"
)


class LeaderLock(Protocol):
    def try_acquire(self) -> bool:
        """Take the lock if it is free; True when this process holds it. Raises
        SQLAlchemyError when the database cannot be asked (the caller waits and retries)."""
        ...

    def still_held(self) -> bool:
        """False when the lock was lost (e.g. the database connection dropped)."""
        ...

    def held_as_seen_by(self, conn: Connection) -> bool:
        """Whether the lock is still held, asked on `conn`, a connection a writer is about to
        use: a server restart ends the lock's session at once, but the leader only notices
        at its next check, while its writers reconnect on their own."""
        ...

    def release(self) -> None: ...


def _advisory_key(name: str) -> int:
    """A stable signed 64-bit key for pg_advisory_lock."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresAdvisoryLock:
    def __init__(self, engine: Engine, name: str = LOCK_NAME) -> None:
        self.engine = engine
        self.key = _advisory_key(name)
        self._conn: Connection | None = None
        self._holder_pid: int | None = None  # the server process of the session holding it

    def try_acquire(self) -> bool:
        if self._conn is not None:
            return self.still_held()
        conn = self.engine.connect()
        try:
            got, pid = conn.execute(
                text("SELECT pg_try_advisory_lock(:k), pg_backend_pid()"), {"k": self.key}
            ).one()
            conn.commit()
        except SQLAlchemyError:
            conn.invalidate()
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn, self._holder_pid = conn, int(pid)
        return True

    def still_held(self) -> bool:
        if self._conn is None:
            return False
        try:
            held = self._conn.execute(
                text(_HELD_BY.format(pid="pg_backend_pid()")), {"k": self.key}
            ).scalar()
            self._conn.commit()
        except SQLAlchemyError:
            self._drop()
            return False
        if not held:
            self._drop()
        return bool(held)

    def held_as_seen_by(self, conn: Connection) -> bool:
        pid = self._holder_pid
        if pid is None:
            return False
        sql = text(_HELD_BY.format(pid=":pid"))
        return bool(conn.execute(sql, {"k": self.key, "pid": pid}).scalar())

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            self._conn.commit()
        except SQLAlchemyError:
            pass
        self._drop()

    def _drop(self) -> None:
        if self._conn is not None:
            try:
                self._conn.invalidate()
                self._conn.close()
            except SQLAlchemyError:
                pass
        self._conn, self._holder_pid = None, None


class FileLock:
    """flock(2) on a file beside the SQLite database: released by the kernel when we die."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def still_held(self) -> bool:
        return self._fd is not None

    def held_as_seen_by(self, conn: Connection) -> bool:
        return self._fd is not None  # only this process's death releases it

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def lock_for(engine: Engine, group: str = "bulk") -> LeaderLock:
    """The leader lock of one group of collectors (registry.GROUPS): each group has its
    own active process and its own standby. The bulk group keeps the lock's old name, so
    a collector of the previous release and one of this release never both lead it."""
    suffix = "" if group == "bulk" else f"-{group}"
    url = make_url(str(engine.url))
    if url.get_backend_name() == "postgresql":
        return PostgresAdvisoryLock(engine, f"{LOCK_NAME}{suffix}:{url.database}")
    database = url.database or ""
    if not database or database == ":memory:":
        return FileLock(Path("var") / f"{LOCK_NAME}{suffix}.lock")
    return FileLock(Path(database).with_suffix(f".collectors{suffix}.lock"))
