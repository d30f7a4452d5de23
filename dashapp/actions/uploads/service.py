"""The upload trail's writes from the web tier: create (validated), complete (uploaded, and in
direct mode triggered), abort — each with its audit record in the same transaction.

The collector moves the same rows on (`collectors.runs.record_object` / `link_uploads`:
uploaded → triggered → running → succeeded / failed), so every status change here is a
conditional UPDATE that only moves a row forward from the status it expects: a browser
finishing late never drags an upload the collector already saw running back to "uploaded".
"""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from botocore.exceptions import BotoCoreError, ClientError
from sqlalchemy import func, update
from sqlalchemy.orm import Session

from dashapp.actions import audit
from dashapp.actions.uploads.keys import object_key, s3_uri
from dashapp.actions.uploads.parts import is_multipart, part_plan
from dashapp.actions.uploads.validate import AcceptedUpload, human_size
from dashapp.aws import s3_uploads
from dashapp.config import Dataset, Settings
from dashapp.identity import Identity
from dashapp.models import Upload
from dashapp.services import Services

URL_EXPIRES_S = 6 * 3600
COMPLETE_READ_TIMEOUT_S = 900.0  # a multi-GB file over a slow line still finishes
ACTION_CREATE = "upload"
ACTION_COMPLETE = "upload_complete"
ACTION_ABORT = "upload_abort"


class UploadFailed(Exception):
    """A step of an accepted upload went wrong; `str()` is the user's sentence."""

    def __init__(self, message: str, status: int = 502) -> None:
        self.status = status
        super().__init__(message)


@dataclass(frozen=True)
class UploadPlan:
    """How the browser sends the file: one POST, or `part_count` numbered parts of `part_size`
    bytes, each sent with its CRC32 on a URL signed for it (`/api/uploads/<id>/parts`)."""

    upload_id: str
    bucket: str
    key: str
    method: str  # "post" | "multipart"
    post: dict[str, Any] | None = None
    multipart_upload_id: str | None = None
    part_size: int | None = None
    part_count: int | None = None
    checksum_algorithm: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "upload_id": self.upload_id,
            "bucket": self.bucket,
            "key": self.key,
            "method": self.method,
            "post": self.post,
            "multipart_upload_id": self.multipart_upload_id,
            "part_size": self.part_size,
            "part_count": self.part_count,
            "checksum_algorithm": self.checksum_algorithm,
        }


def upload_id_for(bucket: str, key: str) -> str:
    """The id the collector gives the same object (`collectors.runs.upload_id_for`)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"s3://{bucket}/{key}"))


def _metadata(identity: Identity) -> dict[str, str]:
    # S3 metadata travels as HTTP headers: ASCII only.
    return {"uploaded-by": quote(identity.user, safe="@._-+:")}


def create_upload(
    svc: Services, identity: Identity, accepted: AcceptedUpload, *, remote_addr: str | None
) -> UploadPlan:
    """Sign the transfer and record the upload as validated. Nothing is written to S3."""
    settings, now = svc.settings, svc.clock.now()
    dataset = accepted.dataset
    bucket = settings.dataset_bucket(dataset)
    key = object_key(dataset.prefix, now, uuid.uuid4(), accepted.safe_name)
    upload_id = upload_id_for(bucket, key)
    s3 = svc.aws.client("s3")
    metadata = _metadata(identity)
    try:
        if not is_multipart(accepted.size):
            post = s3_uploads.presigned_post(
                s3,
                bucket,
                key,
                size=accepted.size,
                content_type=accepted.content_type,
                metadata=metadata,
                kms_key_id=settings.kms_key_id,
                expires_s=URL_EXPIRES_S,
            )
            plan = UploadPlan(upload_id, bucket, key, "post", post=post)
        else:
            part_size, parts = part_plan(accepted.size)
            mpu = s3_uploads.create_multipart(
                s3,
                bucket,
                key,
                content_type=accepted.content_type,
                metadata=metadata,
                kms_key_id=settings.kms_key_id,
            )
            plan = UploadPlan(
                upload_id,
                bucket,
                key,
                "multipart",
                multipart_upload_id=mpu,
                part_size=part_size,
                part_count=parts,
                checksum_algorithm=s3_uploads.CHECKSUM_ALGORITHM,
            )
    except (ClientError, BotoCoreError) as e:
        with svc.sessions.begin() as session:
            _audit(session, identity, ACTION_CREATE, key, "error", now, remote_addr, str(e))
        raise UploadFailed(f"S3 refused to prepare the upload ({e}); try again later.") from e
    with svc.sessions.begin() as session:
        session.add(
            Upload(
                id=upload_id,
                dataset=dataset.name,
                bucket=bucket,
                object_key=key,
                original_name=accepted.original_name[:1024],
                size_bytes=accepted.size,
                content_type=accepted.content_type,
                detected_format=accepted.report.format,
                uploaded_by=identity.user,
                status="validated",
                job_name=dataset.glue_job,
                created_at=now,
            )
        )
        _audit(
            session,
            identity,
            ACTION_CREATE,
            s3_uri(bucket, key),
            "ok",
            now,
            remote_addr,
            None,
            {"dataset": dataset.name, "size": accepted.size, "method": plan.method},
        )
    return plan


def _audit(
    session: Session,
    identity: Identity,
    action: str,
    target: str,
    outcome: str,
    now: datetime,
    remote_addr: str | None,
    error: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    info = dict(detail or {})
    if error:
        info["error"] = error[:2000]
    audit.record(
        session,
        identity,
        action=action,
        target=target,
        outcome=outcome,
        at=now,
        detail=info,
        remote_addr=remote_addr,
    )


def _advance(session: Session, upload_id: str, expected: tuple[str, ...], **values: Any) -> bool:
    """Move the upload only if it is still in one of `expected` statuses (see module doc)."""
    result = session.execute(
        update(Upload)
        .where(Upload.id == upload_id, Upload.status.in_(expected))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def load_upload(svc: Services, upload_id: str) -> Upload:
    with svc.sessions() as session:
        upload = session.get(Upload, upload_id)
        if upload is None:
            raise UploadFailed(f"There is no upload with id {upload_id!r}.", status=404)
        session.expunge(upload)
        return upload


def _fail(
    svc: Services,
    identity: Identity,
    upload: Upload,
    message: str,
    *,
    action: str,
    remote_addr: str | None,
    status: int = 409,
) -> UploadFailed:
    now = svc.clock.now()
    with svc.sessions.begin() as session:
        _advance(
            session,
            upload.id,
            ("validated", "uploaded"),
            status="failed",
            error=message,
            completed_at=now,
        )
        target = s3_uri(upload.bucket, upload.object_key)
        _audit(session, identity, action, target, "error", now, remote_addr, message)
    return UploadFailed(message, status=status)


def complete_upload(
    svc: Services,
    identity: Identity,
    upload_id: str,
    *,
    multipart_upload_id: str | None,
    remote_addr: str | None,
) -> dict[str, Any]:
    """The browser says the bytes are in S3: check that they are, record them, and in
    direct trigger mode start the dataset's job. Returns the upload's trail fields."""
    upload = load_upload(svc, upload_id)
    # "uploaded" too: the collector may have seen the object's event before this call came.
    if upload.status not in ("validated", "uploaded"):
        return trail_json(svc, upload_id)
    s3 = svc.aws.client("s3")
    bucket, key = upload.bucket, upload.object_key
    try:
        info = s3_uploads.head(s3, bucket, key)
        if info is None and multipart_upload_id:
            _finish_multipart(svc, identity, upload, multipart_upload_id, remote_addr)
            info = s3_uploads.head(s3, bucket, key)
    except (ClientError, BotoCoreError) as e:
        raise _fail(
            svc,
            identity,
            upload,
            f"S3 could not finish the upload ({e}).",
            action=ACTION_COMPLETE,
            remote_addr=remote_addr,
            status=502,
        ) from e
    if info is None:
        raise _fail(
            svc,
            identity,
            upload,
            "The file never arrived in S3; upload it again.",
            action=ACTION_COMPLETE,
            remote_addr=remote_addr,
        )
    if upload.size_bytes is not None and info.size != upload.size_bytes:
        with contextlib.suppress(ClientError, BotoCoreError):
            s3_uploads.delete(s3, bucket, key)
        raise _fail(
            svc,
            identity,
            upload,
            f"The file that arrived has {human_size(info.size)}, not the "
            f"{human_size(upload.size_bytes)} that were checked; it was removed. "
            "Upload it again.",
            action=ACTION_COMPLETE,
            remote_addr=remote_addr,
        )
    now = svc.clock.now()
    with svc.sessions.begin() as session:
        session.execute(
            update(Upload)
            .where(Upload.id == upload_id)
            .values(etag=info.etag, uploaded_at=func.coalesce(Upload.uploaded_at, now))
            .execution_options(synchronize_session=False)
        )
        _advance(session, upload_id, ("validated",), status="uploaded")
        _audit(
            session,
            identity,
            ACTION_COMPLETE,
            s3_uri(bucket, key),
            "ok",
            now,
            remote_addr,
            None,
            {"size": info.size, "etag": info.etag},
        )
    if svc.settings.trigger_mode == "direct":
        _trigger(svc, identity, upload, remote_addr)
    return trail_json(svc, upload_id)


def _finish_multipart(
    svc: Services,
    identity: Identity,
    upload: Upload,
    multipart_upload_id: str,
    remote_addr: str | None,
) -> None:
    s3 = svc.aws.client("s3")
    bucket, key = upload.bucket, upload.object_key
    parts = s3_uploads.list_parts(s3, bucket, key, multipart_upload_id)
    if parts is None:
        raise _fail(
            svc,
            identity,
            upload,
            "S3 no longer knows this upload (it was cancelled or expired); upload the file again.",
            action=ACTION_COMPLETE,
            remote_addr=remote_addr,
        )
    _, expected_parts = part_plan(upload.size_bytes or 0)
    sent = sum(int(p["Size"]) for p in parts)
    if len(parts) != expected_parts or sent != upload.size_bytes:
        s3_uploads.abort_multipart(s3, bucket, key, multipart_upload_id)
        raise _fail(
            svc,
            identity,
            upload,
            f"Only {len(parts)} of {expected_parts} parts ({human_size(sent)}) arrived; "
            "upload the file again.",
            action=ACTION_COMPLETE,
            remote_addr=remote_addr,
        )
    # Assembling a multi-GB object may take far longer than one read timeout (S3 answers 200
    # at once and keeps the connection alive; the sandbox answers when done, seconds a GB).
    assembling = svc.aws.client("s3", read_timeout_s=COMPLETE_READ_TIMEOUT_S)
    s3_uploads.complete_multipart(assembling, bucket, key, multipart_upload_id, parts)


def job_arguments(settings: Settings, dataset: Dataset, bucket: str, key: str) -> dict[str, str]:
    """What the job is told about the object: the same `--input_path` (and `--dataset`) the
    EventBridge trigger passes, so runs look alike whichever mode started them."""
    del settings  # the job's other arguments (output path, temp dir) are its defaults
    return {"--input_path": s3_uri(bucket, key), "--dataset": dataset.name}


def _trigger(svc: Services, identity: Identity, upload: Upload, remote_addr: str | None) -> None:
    settings = svc.settings
    dataset = settings.datasets_by_name.get(upload.dataset)
    if dataset is None:
        return
    arguments = job_arguments(settings, dataset, upload.bucket, upload.object_key)
    with svc.sessions.begin() as session:
        # Claim the start, so a repeated or concurrent completion never starts a second run.
        claimed = session.execute(
            update(Upload)
            .where(
                Upload.id == upload.id,
                Upload.run_id.is_(None),
                Upload.triggered_at.is_(None),
                Upload.status.in_(("validated", "uploaded")),
            )
            .values(triggered_at=svc.clock.now())
            .execution_options(synchronize_session=False)
        ).rowcount
    if not claimed:
        return
    try:
        run_id = s3_uploads.start_job_run(svc.aws.client("glue"), dataset.glue_job, arguments)
    except (ClientError, BotoCoreError) as e:
        message = f"The Glue job {dataset.glue_job} could not be started: {e}"
        now = svc.clock.now()
        with svc.sessions.begin() as session:
            _advance(
                session, upload.id, ("uploaded",), status="failed", error=message, completed_at=now
            )
            _audit(
                session,
                identity,
                "start_job_run",
                dataset.glue_job,
                "error",
                now,
                remote_addr,
                message,
            )
        return
    now = svc.clock.now()
    with svc.sessions.begin() as session:
        # The collector may have seen the run already (and moved the upload further on).
        session.execute(
            update(Upload)
            .where(Upload.id == upload.id, Upload.run_id.is_(None))
            .values(run_id=run_id, job_name=dataset.glue_job)
            .execution_options(synchronize_session=False)
        )
        _advance(session, upload.id, ("validated", "uploaded"), status="triggered")
        _audit(
            session,
            identity,
            "start_job_run",
            dataset.glue_job,
            "ok",
            now,
            remote_addr,
            None,
            {"run_id": run_id, "upload_id": upload.id, "arguments": arguments},
        )


def abort_upload(
    svc: Services,
    identity: Identity,
    upload_id: str,
    *,
    multipart_upload_id: str | None,
    reason: str,
    remote_addr: str | None,
) -> dict[str, Any]:
    """The browser gave up (cancelled, or the transfer failed): discard the parts and mark
    the upload failed with the reason. Only an upload not yet completed can be aborted."""
    upload = load_upload(svc, upload_id)
    if upload.status != "validated":
        raise UploadFailed(
            f"This upload is already {upload.status}; it can no longer be cancelled.", status=409
        )
    if multipart_upload_id:
        # On failure the parts expire with the bucket's lifecycle rule for incomplete uploads.
        with contextlib.suppress(ClientError, BotoCoreError):
            s3_uploads.abort_multipart(
                svc.aws.client("s3"), upload.bucket, upload.object_key, multipart_upload_id
            )
    message = (reason.strip() or "The upload was cancelled")[:500]
    now = svc.clock.now()
    with svc.sessions.begin() as session:
        _advance(
            session, upload_id, ("validated",), status="failed", error=message, completed_at=now
        )
        _audit(
            session,
            identity,
            ACTION_ABORT,
            s3_uri(upload.bucket, upload.object_key),
            "ok",
            now,
            remote_addr,
            None,
            {"reason": message},
        )
    return trail_json(svc, upload_id)


def trail_json(svc: Services, upload_id: str) -> dict[str, Any]:
    """The upload's status fields as the browser shows them after an API call."""
    upload = load_upload(svc, upload_id)
    return {
        "upload_id": upload.id,
        "status": upload.status,
        "error": upload.error,
        "run_id": upload.run_id,
        "bucket": upload.bucket,
        "key": upload.object_key,
    }
