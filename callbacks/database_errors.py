"""Every callback the database failed: the page keeps what it shows and the header says why.

Why: most callbacks catch a failed read and draw their own notice, but a callback that
does not (or a write refused by a read-only or full database) would answer 500, which
the browser shows as nothing at all. Dash's app-wide `on_error` turns the database's own
refusals (`database_unavailable`) into "no update" for the callback's outputs and the
"Database unreachable" state of the header's freshness indicator, present on every page.
Anything else is a defect and is raised again, to be a 500 with its traceback.
"""

from __future__ import annotations

import logging

from dash import set_props

from callbacks.shell import unreachable_view
from dashapp.db import database_unavailable, db_error_line
from layouts import shell

log = logging.getLogger("dashapp.web")


def on_callback_error(err: Exception) -> None:
    if not database_unavailable(err):
        raise err
    line = db_error_line(err)
    log.warning("a callback could not use the database: %s", line)
    view = unreachable_view(line)
    set_props(
        shell.FRESHNESS,
        {
            "children": shell.freshness_children(view),
            "className": shell.freshness_class(view),
            "title": view.title,
        },
    )
    set_props(shell.FRESHNESS_ANNOUNCE, {"children": view.announcement})
