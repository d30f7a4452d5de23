"""What a route answers when the database cannot serve it: 503 and one line saying why.

Why: an export, the uploads API or a job action reached while the database restarts,
fails over, is read-only or full would otherwise end in Flask's 500 page and a traceback
in the log per request. Only the database's own refusals are answered so (a query we got
wrong stays a 500); `Retry-After` tells clients and proxies it is worth trying again.
Dash callbacks have their own answer (`callbacks/database_errors.py`).
"""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from sqlalchemy.exc import InternalError, OperationalError

from dashapp.db import db_error_line

log = logging.getLogger("dashapp.web")
RETRY_AFTER_S = 5


def unavailable_response(err: Exception) -> Response:
    line = f"database unavailable: {db_error_line(err)}"
    log.warning("%s %s: %s", request.method, request.path, line)
    if request.path.startswith("/api/"):
        response = jsonify(error=line)
    else:
        response = Response(line + "\n", mimetype="text/plain")
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER_S)
    response.headers["Cache-Control"] = "no-store"
    return response


def install(server: Flask) -> None:
    for error in (OperationalError, InternalError):
        server.register_error_handler(error, unavailable_response)
