"""The files and the reads every upload API test shares: valid orders CSVs, and what the
uploads table and the audit log hold afterwards."""

from __future__ import annotations

from sqlalchemy import select

from dashapp.models import AuditEntry, Upload
from tests.uploads.conftest import Api

ORDERS = b"order_id,customer_id,amount,currency,ordered_at\n" + b"1,c-1,12.50,EUR,2026-11-25\n" * 3


def big_csv(size: int) -> bytes:
    """A valid orders CSV of about `size` bytes (multipart under the `small_parts` fixture)."""
    header = b"order_id,customer_id,amount,currency,ordered_at\n"
    row = b"1,c-1,12.50,EUR,2026-11-25\n"
    return header + row * ((size - len(header)) // len(row))


def uploads(api: Api) -> list[Upload]:
    with api.svc.sessions() as s:
        return list(s.scalars(select(Upload)))


def audit(api: Api) -> list[tuple[str, str]]:
    with api.svc.sessions() as s:
        return [
            (a.action, a.outcome) for a in s.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]
