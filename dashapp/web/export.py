"""`/export/…csv`: the CSV export API (ARCHITECTURE §4), streamed whatever its size.

Each route checks its parameters and the names they mention before the response
starts, so every mistake is a 400 or 404 with one plain line naming the parameter;
only then does a generator read the database (or S3) batch by batch and hand the
WSGI server chunks of CSV. Parameters and cells live in `dashapp.export`, database
reads in `dashapp.queries` (the pages' read side); this module is wiring.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from flask import Blueprint, Response, request, stream_with_context
from sqlalchemy import text
from sqlalchemy.orm import Session

from dashapp.actions.auth import role_required
from dashapp.aws import s3_objects
from dashapp.export import cells, params
from dashapp.export import job_summary as monitoring_export
from dashapp.export import uploads as upload_export
from dashapp.export.params import ExportError, NotFound
from dashapp.identity import Role
from dashapp.queries import cards as job_cards
from dashapp.queries import export_rows as export_queries
from dashapp.queries import filters
from dashapp.queries import lambda_ as lambda_queries
from dashapp.queries import overview as overview_reads
from dashapp.queries import uploads as upload_queries
from dashapp.services import Services, services

ACTION = "export_csv"
CSV_TYPE = "text/csv; charset=utf-8"


def _plain(status: int, message: str) -> Response:
    return Response(
        message + "\n",
        status=status,
        mimetype="text/plain",
        headers={"Cache-Control": "no-store"},
    )


def csv_response(
    filename: str, header: Sequence[str] | None, rows: Iterable[Sequence[str]]
) -> Response:
    """A streamed attachment: chunks leave as they are written, nothing is cached."""
    body = stream_with_context(cells.csv_chunks(header, rows))
    response = Response(body, mimetype="text/csv", content_type=CSV_TYPE)
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _db_rows(
    svc: Services,
    fetch: Callable[[Session], Iterable[Any]],
    to_cells: Callable[[Any], Sequence[str]],
) -> Iterator[Sequence[str]]:
    """Rows read in one session that lives exactly as long as the download."""
    with svc.sessions() as session:
        for row in fetch(session):
            yield to_cells(row)


def _check(svc: Services, check: Callable[[Session], None] | None = None) -> None:
    """Before the response starts: the names a query mentions exist, and the database
    answers at all, so an outage is a 503 (`dashapp.web.database_errors`), not a download
    cut after its header line."""
    with svc.sessions() as session:
        session.execute(text("SELECT 1"))
        if check is not None:
            check(session)


def export_blueprint() -> Blueprint:
    """A fresh blueprint per app, so apps in one process share nothing."""
    bp = Blueprint("export", __name__, url_prefix="/export")

    @bp.errorhandler(ExportError)
    def _refused(error: ExportError) -> Response:
        return _plain(error.status, str(error))

    @bp.get("/job-runs.csv")
    @role_required(Role.viewer, ACTION)
    def job_runs() -> Response:
        svc = services()
        query = params.parse_job_runs_args(request.args, svc.clock.now())

        def check(session: Session) -> None:
            if query.job is not None and not export_queries.glue_job_known(session, query.job):
                raise NotFound("job", f"no Glue job named {query.job!r}")

        _check(svc, check)
        rows = _db_rows(svc, lambda s: export_queries.job_run_rows(s, query), cells.job_run_cells)
        name = cells.export_filename("job-runs", query.window, query.job, query.state)
        return csv_response(name, params.JOB_RUNS_HEADER, rows)

    @bp.get("/metrics.csv")
    @role_required(Role.viewer, ACTION)
    def metrics() -> Response:
        svc = services()
        query = params.parse_metrics_args(request.args, svc.clock.now())
        kind = {"glue_job": "Glue job", "lambda_function": "Lambda function"}.get(
            query.resource_type or "", "Glue job or Lambda function"
        )

        def check(session: Session) -> None:
            if query.name is not None and not export_queries.resource_known(
                session, query.resource_type, query.name
            ):
                raise NotFound("name", f"no {kind} named {query.name!r}")
            if query.metric is not None and not export_queries.metric_known(
                session, query.resource_type, query.metric
            ):
                of = f" of a {kind}" if query.resource_type else ""
                raise NotFound("metric", f"no metric{of} named {query.metric!r}")

        _check(svc, check)
        rows = _db_rows(svc, lambda s: export_queries.metric_rows(s, query), cells.metric_cells)
        name = cells.export_filename(
            "metrics", query.window, query.resource_type, query.name, query.metric
        )
        return csv_response(name, params.METRICS_HEADER, rows)

    @bp.get("/lambda-summary.csv")
    @role_required(Role.viewer, ACTION)
    def lambda_summary() -> Response:
        svc = services()
        window = params.parse_lambda_summary_args(request.args, svc.clock.now())
        _check(svc)

        def rows() -> Iterator[Sequence[str]]:
            with svc.sessions() as session:
                for summary in lambda_queries.summaries(session, window):
                    yield cells.lambda_summary_cells(summary)

        name = cells.export_filename("lambda-summary", window)
        return csv_response(name, params.LAMBDA_SUMMARY_HEADER, rows())

    @bp.get("/log-events.csv")
    @role_required(Role.viewer, ACTION)
    def log_events() -> Response:
        svc = services()
        query = params.parse_log_events_args(request.args, svc.clock.now())

        def check(session: Session) -> None:
            if query.group is not None and not export_queries.log_group_known(session, query.group):
                raise NotFound("group", f"no log group named {query.group!r}")
            if query.stream is not None and not export_queries.log_stream_known(
                session, query.group, query.stream
            ):
                where = f" in {query.group!r}" if query.group else ""
                raise NotFound("stream", f"no log stream named {query.stream!r}{where}")

        _check(svc, check)
        rows = _db_rows(
            svc, lambda s: export_queries.log_event_rows(s, query), cells.log_event_cells
        )
        name = cells.export_filename("log-events", query.window, query.group, query.stream)
        return csv_response(name, params.LOG_EVENTS_HEADER, rows)

    @bp.get("/uploads.csv")
    @role_required(Role.viewer, ACTION)
    def uploads() -> Response:
        svc = services()
        names = tuple(d.name for d in svc.settings.datasets)
        query = upload_export.parse_uploads_args(request.args, svc.clock.now(), names)
        _check(svc)
        rows = _db_rows(
            svc, lambda s: upload_queries.iter_uploads(s, query), upload_export.upload_cells
        )
        window = filters.Window(query.since, query.until)
        name = cells.export_filename("uploads", window, query.dataset, query.status, query.user)
        return csv_response(name, upload_export.UPLOADS_HEADER, rows)

    @bp.get("/job-summary.csv")
    @role_required(Role.viewer, ACTION)
    def job_summary() -> Response:
        svc = services()
        now = svc.clock.now()
        query = monitoring_export.parse_job_summary_args(request.args, now, svc.settings.datasets)
        _check(svc)

        def rows() -> Iterator[Sequence[str]]:
            with svc.sessions() as session:
                jobs = overview_reads.job_overviews(session, query.window.since, query.window.until)
                synced = overview_reads.runs_synced(session)
            settings = svc.settings
            cards = job_cards.build_cards(
                jobs, settings.datasets, now, settings.dpu_hour_price, synced=synced
            )
            shown = job_cards.filter_cards(cards, query.filter)
            for card in job_cards.order_cards(shown):
                yield monitoring_export.job_summary_cells(card, settings.currency)

        name = cells.export_filename(
            "job-summary", query.window, query.filter.status, query.filter.dataset
        )
        return csv_response(name, monitoring_export.JOB_SUMMARY_HEADER, rows())

    @bp.get("/athena/<query_execution_id>.csv")
    @role_required(Role.viewer, ACTION)
    def athena_result(query_execution_id: str) -> Response:
        svc = services()
        params.parse_athena_args(request.args, query_execution_id)
        with svc.sessions() as session:
            found = export_queries.athena_query(session, query_execution_id)
        param = "query_execution_id"
        if found is None:
            raise NotFound(param, f"no Athena query with id {query_execution_id!r}")
        if found.state != "SUCCEEDED" or not found.output_location:
            raise NotFound(
                param,
                f"Athena query {query_execution_id!r} is {found.state}; "
                "only a SUCCEEDED query has a result to export",
            )
        try:
            lines = s3_objects.open_text_lines(svc.aws.client("s3"), found.output_location)
        except (s3_objects.ObjectNotFound, ValueError):
            raise NotFound(
                param,
                f"the result of Athena query {query_execution_id!r} is no longer at "
                f"{found.output_location}",
            ) from None
        except (ClientError, BotoCoreError) as e:
            return _plain(502, f"S3 refused the result of Athena query: {e}")

        def rows() -> Iterator[list[str]]:
            with lines:
                yield from cells.rewrite_untyped_csv(lines)

        name = cells.export_filename("athena", None, query_execution_id)
        response = csv_response(name, None, rows())
        # A client gone before the first chunk never starts rows(): free the connection anyway.
        response.call_on_close(lines.close)
        return response

    return bp
