"""When AWS acted but the database could not record it: say so, and keep it in the log.

Why: an action calls AWS between two transactions (the claim before, the outcome after).
If the database goes away or turns read-only in between, the last transaction rolls
back whole (no run without its audit entry), but AWS has acted all the same. The user
must read exactly that, not a 500 or "nothing happened"; the application log keeps the
line the audit log could not take, and the collector records the run when it next reads
Glue.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from dashapp.db import database_unavailable, db_error_line

log = logging.getLogger("dashapp.actions")


def record_or_report(
    sessions: sessionmaker[Session], write: Callable[[Session], None], *, done: str, actor: str
) -> str | None:
    """Run `write` in one transaction. None when it was recorded; when the database refused
    it, the sentence telling `done` (what AWS did) and that it is not recorded."""
    try:
        with sessions.begin() as session:
            write(session)
    except SQLAlchemyError as e:
        if not database_unavailable(e):
            raise
        line = db_error_line(e)
        log.warning("%s: %s; not recorded, database unavailable: %s", actor, done, line)
        return (
            f"{done}, but the database could not record it ({line}); "
            "it shows once the collector reads Glue again."
        )
    return None
