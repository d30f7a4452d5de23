"""`/api/uploads`: the HTTP API the upload page's script (and bench/upload.py) speaks.

- `POST /api/uploads` (multipart form: dataset, name, size, and `sample`, the file's first
  megabyte or all of a smaller file) → checks everything, records the upload as validated
  and answers how to send the bytes: a presigned POST, or a multipart plan. A refused file
  gets 400 (413 when too large) with `{"error", "line", "column"}` and nothing is written
  to S3 or the uploads table.
  A multipart plan names `part_size`, `part_count` and `checksum_algorithm` ("CRC32").
- `POST /api/uploads/<id>/parts` (JSON `{"multipart_upload_id", "parts": [{"part_number",
  "crc32"}]}`, at most 100 parts) → `{"parts": [{"part_number", "url", "headers"}]}`: a
  presigned PUT per part, signed with that part's CRC32 (base64 of its 4 big-endian
  bytes), which the PUT must send as the `headers` given; S3 refuses the part if its
  bytes do not match.
- `POST /api/uploads/<id>/complete` (JSON `{"multipart_upload_id"?}`) → S3 has the bytes:
  verified with HeadObject, recorded (uploaded); in direct trigger mode the job starts.
- `POST /api/uploads/<id>/abort` (JSON `{"multipart_upload_id"?, "reason"?}`).

Every route asks `require(Role.operator, …)`; all but `/parts` (which only signs) write the
audit log. Cross-site request forgery: a request must carry the `X-SMD-Upload` header (a
cross-origin page cannot send a custom header without a CORS preflight, which this app
never grants) and, when the browser says where it comes from (`Origin`, `Sec-Fetch-Site`),
come from this origin.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from dashapp.actions import audit
from dashapp.actions.auth import require
from dashapp.actions.uploads import part_urls, service
from dashapp.actions.uploads.problems import UploadRejected
from dashapp.actions.uploads.sniff import SAMPLE_BYTES
from dashapp.actions.uploads.validate import parse_request, validate_request
from dashapp.identity import Forbidden, Identity, Role
from dashapp.services import services

CSRF_HEADER = "X-SMD-Upload"
_MAX_FORM_BYTES = SAMPLE_BYTES + 64 * 1024
_MAX_PARTS_JSON_BYTES = 64 * 1024  # 100 parts to sign take under 10 kB


def _json(body: dict[str, Any], status: int = 200) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _same_origin() -> str | None:
    """Why the request may be cross-site, or None when it is from this origin."""
    if request.headers.get(CSRF_HEADER) != "1":
        return f"the {CSRF_HEADER} header is missing"
    origin = request.headers.get("Origin")
    if origin and origin.rstrip("/") != request.host_url.rstrip("/"):
        return f"requests from {origin} are not accepted"
    if request.headers.get("Sec-Fetch-Site") not in (None, "same-origin"):
        return "cross-site requests are not accepted"
    return None


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def uploads_blueprint() -> Blueprint:
    """A fresh blueprint per app, so apps in one process share nothing."""
    bp = Blueprint("uploads_api", __name__, url_prefix="/api/uploads")

    @bp.before_request
    def _guard() -> Response | None:
        problem = _same_origin()
        if problem:
            return _json({"error": f"Refused: {problem}."}, 403)
        return None

    @bp.errorhandler(Forbidden)
    def _forbidden(error: Forbidden) -> Response:
        return _json({"error": str(error)}, 403)

    @bp.errorhandler(service.UploadFailed)
    def _failed(error: service.UploadFailed) -> Response:
        return _json({"error": str(error)}, error.status)

    @bp.post("")
    def create() -> Response:
        svc = services()
        if (request.content_length or 0) > _MAX_FORM_BYTES:
            return _json({"error": "Send only the first megabyte of the file to check."}, 413)
        form = request.form
        target = f"{form.get('dataset', '')}/{form.get('name', '')}"[:1024]
        identity = require(Role.operator, service.ACTION_CREATE, target)
        sample_file = request.files.get("sample")
        sample = sample_file.read(SAMPLE_BYTES + 1) if sample_file else b""
        try:
            accepted = validate_request(
                parse_request(form),
                sample,
                svc.settings.datasets_by_name,
                max_bytes=svc.settings.upload_max_bytes,
            )
        except UploadRejected as e:
            _audit_rejection(identity, target, e)
            return _json(e.as_json(), e.status)
        plan = service.create_upload(svc, identity, accepted, remote_addr=request.remote_addr)
        return _json(
            {
                **plan.as_json(),
                "format": accepted.report.format,
                "columns": accepted.report.columns,
                "checked_whole_file": accepted.report.complete,
            },
            201,
        )

    @bp.post("/<upload_id>/parts")
    def sign_parts(upload_id: str) -> Response:
        require(Role.operator, part_urls.ACTION_SIGN, upload_id)
        if (request.content_length or 0) > _MAX_PARTS_JSON_BYTES:
            return _json({"error": "Ask for at most 100 parts at a time."}, 413)
        body = _json_body()
        signed = part_urls.sign_parts(
            services(),
            upload_id,
            multipart_upload_id=body.get("multipart_upload_id"),
            parts=body.get("parts"),
        )
        return _json({"parts": signed})

    @bp.post("/<upload_id>/complete")
    def complete(upload_id: str) -> Response:
        identity = require(Role.operator, service.ACTION_COMPLETE, upload_id)
        body = _json_body()
        trail = service.complete_upload(
            services(),
            identity,
            upload_id,
            multipart_upload_id=_text(body.get("multipart_upload_id")),
            remote_addr=request.remote_addr,
        )
        return _json(trail)

    @bp.post("/<upload_id>/abort")
    def abort(upload_id: str) -> Response:
        identity = require(Role.operator, service.ACTION_ABORT, upload_id)
        body = _json_body()
        trail = service.abort_upload(
            services(),
            identity,
            upload_id,
            multipart_upload_id=_text(body.get("multipart_upload_id")),
            reason=_text(body.get("reason")) or "",
            remote_addr=request.remote_addr,
        )
        return _json(trail)

    return bp


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _audit_rejection(identity: Identity, target: str, error: UploadRejected) -> None:
    svc = services()
    with svc.sessions.begin() as session:
        audit.record(
            session,
            identity,
            action=service.ACTION_CREATE,
            target=target,
            outcome="rejected",
            at=svc.clock.now(),
            detail=error.as_json(),
            remote_addr=request.remote_addr,
        )
