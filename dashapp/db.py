"""Engine, sessions and the one upsert every writer uses.

SQLite (the sandbox) and PostgreSQL (production) share this code; the only
dialect-specific bits are connection options and the `INSERT … ON CONFLICT`
construct, both kept here.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InternalError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def db_error_line(err: BaseException) -> str:
    """The driver's own first line, without SQLAlchemy's wrapper and background link: what
    a status line, a log line or a page says when the database refused or went away."""
    orig = getattr(err, "orig", None)
    message = str(orig if orig is not None else err).strip()
    return message.splitlines()[0] if message else type(err).__name__


def database_unavailable(err: BaseException) -> bool:
    """The database could not serve the request (down, restarting, read-only, full) rather
    than our SQL being wrong: what a page, a route and a collector report and retry."""
    return isinstance(err, OperationalError | InternalError)


def make_engine(url: str, *, application_name: str | None = None, **kwargs: Any) -> Engine:
    """An engine tuned per dialect: WAL + busy timeout on SQLite, pre-ping pools on PostgreSQL.

    `application_name` labels the PostgreSQL sessions (`pg_stat_activity`), so an operator
    sees which process and which collector holds a connection or a lock."""
    u = make_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            Path(u.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            u, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    # A database host that drops packets must fail /readyz fast, not hang it.
    kwargs.setdefault("connect_args", {"connect_timeout": 5})
    if application_name:
        kwargs["connect_args"] = {**kwargs["connect_args"], "application_name": application_name}
    kwargs.setdefault("pool_pre_ping", True)
    kwargs.setdefault("pool_size", 5)
    kwargs.setdefault("max_overflow", 10)
    return create_engine(u, **kwargs)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error: nothing half-written."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def upsert(
    session: Session,
    model: type[DeclarativeBase],
    rows: Sequence[Mapping[str, Any]] | Iterable[Mapping[str, Any]],
    *,
    conflict: Sequence[str],
    update: Sequence[str] | None = None,
    chunk: int = 500,
) -> int:
    """Insert rows, updating `update` columns (default: every non-key column) on key conflict.

    Re-reading the same data from AWS therefore never duplicates or reorders anything.
    Returns the number of rows sent.
    """
    rows = list(rows)
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    insert_fn = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = model.__table__  # type: ignore[attr-defined]
    columns = set(rows[0].keys())
    if update is None:
        update = [c for c in columns if c not in conflict]
    stmt = insert_fn(table)
    if update:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(conflict),
            set_={c: stmt.excluded[c] for c in update},
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
    # One statement with a parameter set per row (an executemany): compiled once and
    # cached, where a multi-row VALUES was compiled afresh for every batch of rows.
    for start in range(0, len(rows), chunk):
        session.execute(stmt, rows[start : start + chunk])
    return len(rows)


def current_revision(engine: Engine) -> str | None:
    """The Alembic revision the database is at, or None when it was never migrated."""
    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as conn:
        from sqlalchemy import text

        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def alembic_config(url: str) -> Any:
    from alembic.config import Config

    cfg = Config(str(MIGRATIONS_DIR.parent / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["database_url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations (what `python -m dashapp db upgrade` and the container entrypoint run)."""
    from alembic import command

    make_engine(url).dispose()  # creates the SQLite directory when needed
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head() or ""
