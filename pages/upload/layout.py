"""Upload (`/upload`): choose a dataset, drop files, watch each one to its ingested result.

The transfer itself is `assets/smd-upload.js` (browser → S3 directly, with progress);
this module lays out the form and renders the trail each upload leaves in the
database — validated → uploaded → triggered → running → succeeded or failed —
which `pages/upload/callbacks.py` re-reads on the refresh timer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html

from dashapp.actions.uploads.sniff import SAMPLE_BYTES
from dashapp.actions.uploads.validate import human_size
from dashapp.config import Dataset
from dashapp.queries.uploads import UploadView
from layouts.components import (
    Vocabulary,
    badge_of,
    empty_state,
    icon,
    loading,
    notice,
    time_ago,
)
from pages import links

PATH = links.UPLOAD
NAME = "Upload"
DATASET = "upload-dataset"
DATASET_INFO = "upload-dataset-info"
DROP = "upload-drop"
FILES = "upload-files"
TRAIL = "upload-trail"
FORM = "upload-form"
FORM_STATUS = "upload-form-status"
REFRESH = "upload-refresh"
TRAIL_WINDOW_H = 24

# status → (label, tone, icon); words and icons, never colour alone.
STATUS_BADGES: Vocabulary = {
    "validated": ("Validated", "secondary", "clipboard-check"),
    "uploaded": ("Uploaded", "info", "cloud-check"),
    "triggered": ("Triggered", "info", "play-circle"),
    "running": ("Running", "info", "arrow-repeat"),
    "succeeded": ("Succeeded", "success", "check-circle-fill"),
    "failed": ("Failed", "danger", "x-octagon-fill"),
}
STEPS = ("validated", "uploaded", "triggered", "running", "succeeded")


def layout(**_query: str) -> html.Div:
    """The page skeleton (no data: it is served before sign-in); pages/upload/callbacks.py fills
    the form for who is asking and their uploads' trail."""
    return html.Div(
        [
            html.H1(NAME, className="h2"),
            html.P(
                "Send CSV or JSON files into a dataset. Each file is checked before "
                "anything is stored, goes straight from your browser to S3, and starts the "
                "dataset's Glue job; follow it below until its rows are in.",
                className="lead smd-lead",
            ),
            html.Div(loading("the upload form"), id=FORM_STATUS),
            upload_form(),
            html.Section(
                [
                    html.H2(
                        f"Your uploads in the last {TRAIL_WINDOW_H} hours",
                        id="upload-trail-heading",
                        className="h4",
                    ),
                    html.Div(loading("your uploads"), id=TRAIL),
                ],
                className="smd-section mt-4",
                **{"aria-labelledby": "upload-trail-heading"},
            ),
            dcc.Store(id=REFRESH),
        ]
    )


def form_state(
    datasets: Sequence[Dataset], can_upload: bool
) -> tuple[Any, bool, list[dict[str, str]], str | None]:
    """(what to say instead of the form, form hidden?, dataset options, chosen dataset)."""
    if not can_upload:
        reason = notice(
            "Uploading needs the operator role; you can follow uploads here and on the "
            "Uploads page.",
            "info",
            "lock",
        )
        return reason, True, [], None
    if not datasets:
        reason = empty_state(
            "No datasets are configured",
            ["Set ", html.Code("SMD_DATASETS"), " to add datasets files can be uploaded into."],
        )
        return reason, True, [], None
    options = [{"label": d.label, "value": d.name} for d in datasets]
    return None, False, options, datasets[0].name


def upload_form() -> html.Section:
    """Dataset choice, what that dataset expects, the drop zone and the per-file progress;
    hidden until the callback knows the user may upload (and fills the datasets)."""
    return html.Section(
        [
            html.Div(
                [
                    html.Label("Dataset", htmlFor=DATASET, className="form-label fw-semibold"),
                    dbc.Select(id=DATASET, options=[], value=None),
                    html.Div(id=DATASET_INFO, className="form-text mt-2"),
                ],
                className="mb-3 smd-upload-dataset",
            ),
            html.Div(
                [
                    icon("cloud-arrow-up", "smd-drop-icon"),
                    html.Span(
                        "Drop files here, or press to choose files",
                        className="fw-semibold",
                    ),
                    html.Span(
                        "CSV, JSON or NDJSON (.csv, .json, .ndjson, .jsonl); several at once.",
                        className="small",
                    ),
                ],
                id=DROP,
                role="button",
                tabIndex="0",
                className="smd-drop",
                **{
                    "aria-label": "Choose files to upload into the selected dataset",
                    "data-sample-bytes": str(SAMPLE_BYTES),
                },
            ),
            html.Ul(
                id=FILES,
                className="list-group mt-3 smd-upload-files",
                **{"aria-label": "Files sent from this page"},
            ),
        ],
        id=FORM,
        hidden=True,
        className="smd-upload-form",
        **{"aria-label": "Upload files"},
    )


def dataset_info(dataset: Dataset) -> list[Any]:
    """What a file for this dataset must look like, in one or two sentences."""
    formats = ", ".join(f.upper() for f in dataset.formats)
    parts: list[Any] = [
        dataset.description + " " if dataset.description else "",
        f"Accepts {formats}. Ingested by ",
        html.Code(dataset.glue_job),
        ".",
    ]
    if dataset.expected_columns:
        parts += [
            " Needs the columns ",
            *_join_codes(dataset.expected_columns),
            ".",
        ]
    return parts


def _join_codes(names: Sequence[str]) -> list[Any]:
    out: list[Any] = []
    for i, name in enumerate(names):
        if i:
            out.append(", ")
        out.append(html.Code(name))
    return out


def status_badge(status: str) -> html.Span:
    return badge_of(STATUS_BADGES, status)


def trail_list(views: Sequence[UploadView], labels: dict[str, str], now: datetime) -> Any:
    """Every upload's trail, newest first, or what makes one appear."""
    if not views:
        return empty_state(
            "No uploads yet",
            "Files you upload on this page appear here with each step they pass.",
            "cloud-arrow-up",
        )
    return html.Ol(
        [trail_item(v, labels.get(v.dataset, v.dataset), now) for v in views],
        className="list-unstyled smd-trails",
        **{"aria-label": "Your uploads, newest first"},
    )


def _step_index(view: UploadView) -> int:
    if view.status == "failed":
        # Failed after the step it had reached: a run means it got as far as running.
        if view.run_id:
            return STEPS.index("running")
        return STEPS.index("uploaded") if view.uploaded_at else STEPS.index("validated")
    return STEPS.index(view.status) if view.status in STEPS else 0


def trail_steps(view: UploadView) -> html.Ol:
    """The steps as a list a screen reader can follow: done, in progress, not yet, failed.

    Every step up to the upload's status is done; the next one is in progress until the
    upload succeeds or fails (a failure is shown after the last step it reached).
    """
    reached = _step_index(view)
    failed = view.status == "failed"
    items = []
    for i, step in enumerate(STEPS):
        label = STATUS_BADGES[step][0]
        if i <= reached:
            state, icon_name, said = "done", "check-circle-fill", "done"
        elif i == reached + 1 and failed:
            state, icon_name, said, label = "failed", "x-octagon-fill", "failed", "Failed"
        elif i == reached + 1:
            state, icon_name, said = "current", "arrow-right-circle", "in progress"
        else:
            state, icon_name, said = "pending", "circle", "not yet"
        items.append(
            html.Li(
                [
                    icon(icon_name, "me-1"),
                    label,
                    html.Span(f" ({said})", className="visually-hidden"),
                ],
                className=f"list-inline-item smd-step smd-step--{state}",
            )
        )
        if state == "failed":
            break
    return html.Ol(items, className="smd-steps list-inline mb-1")


def trail_item(view: UploadView, dataset_label: str, now: datetime) -> html.Li:
    """One upload: what, where, which step, and the result or the error with its logs."""
    details: list[Any] = []
    if view.run_id:
        details.append(html.Span(["Run ", html.Code(view.run_id, className="smd-run-id")]))
    if view.status == "succeeded":
        details.append(
            html.Span(
                f"Read {_count(view.rows_read)} rows, wrote {_count(view.rows_written)} rows.",
                className="smd-rows",
            )
        )
        if view.output_path:
            details.append(html.Span(["Output: ", html.Code(view.output_path)]))
    if view.status == "failed":
        details.append(
            html.Span(view.error or "The job failed without a message.", className="smd-error")
        )
        if view.run_id:
            details.append(
                html.A(
                    [icon("journal-text", "me-1"), "View logs"],
                    href=links.run_logs_href(view.run_id, first_error=True),
                    className="smd-logs-link",
                    **{"data-smd-link": "", "aria-label": f"View logs of run {view.run_id}"},
                )
            )
    return html.Li(
        [
            html.Div(
                [
                    html.Span(view.original_name, className="fw-semibold text-break"),
                    status_badge(view.status),
                ],
                className="d-flex justify-content-between gap-2 flex-wrap",
            ),
            html.P(
                [
                    f"{dataset_label} · ",
                    human_size(view.size_bytes) if view.size_bytes is not None else "size unknown",
                    " · ",
                    time_ago(view.created_at, now),
                ],
                className="small text-body-secondary mb-1",
            ),
            trail_steps(view),
            html.Div(details, className="d-flex flex-column gap-1 small"),
        ],
        className="smd-trail card card-body mb-2",
        **{"data-upload-id": view.id, "data-status": view.status},
    )


def _count(n: int | None) -> str:
    return "?" if n is None else f"{n:,}"
