"""`/api/uploads` under random forms and JSON bodies, against moto and both databases.

A refused file is a 4xx with `{"error"}` and leaves nothing behind: no uploads row, no
object. An accepted one is exactly one validated row. `complete` and `abort` with any id
or body answer 4xx (or the trail), never a 500; `parts` signs exactly the parts asked, or
answers 4xx, and the upload goes on either way.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from dashapp.models import AuditEntry, Upload
from tests.reliability.conftest import examples
from tests.reliability.strategies import EDGE_INTS, edge_text, json_values
from tests.reliability.test_fuzz_fileformats import documents
from tests.uploads.api_helpers import ORDERS, big_csv
from tests.uploads.conftest import HEADERS, Api

SIZES = st.one_of(
    st.sampled_from([str(n) for n in EDGE_INTS]), st.integers(0, 2**40).map(str), edge_text()
)


def _count(api: Api) -> int:
    with api.svc.sessions() as s:
        return s.scalar(select(func.count()).select_from(Upload)) or 0


def _audit_outcomes(api: Api) -> list[str]:
    with api.svc.sessions() as s:
        return list(s.scalars(select(AuditEntry.outcome).order_by(AuditEntry.id)))


def _validated(api: Api) -> int:
    with api.svc.sessions() as s:
        return s.scalar(select(func.count()).where(Upload.status == "validated")) or 0


@st.composite
def forms(draw: st.DrawFn) -> dict[str, Any]:
    sample = draw(st.one_of(documents(), st.just(ORDERS)))
    size = draw(st.one_of(st.just(str(len(sample))), SIZES))
    form: dict[str, Any] = {
        "dataset": draw(
            st.one_of(st.sampled_from(["orders", "clickstream", "customers"]), edge_text())
        ),
        "name": draw(st.one_of(st.sampled_from(["orders.csv", "a.json", "a.ndjson"]), edge_text())),
        "size": size,
    }
    for key in draw(st.sets(st.sampled_from(sorted(form)), max_size=2)):
        del form[key]  # a field the script forgot
    if draw(st.booleans()):
        form["sample"] = (io.BytesIO(sample), "sample")
    return form


def _surrogate_free(form: dict[str, Any]) -> bool:
    return all(
        not isinstance(v, str) or not any(0xD800 <= ord(c) <= 0xDFFF for c in v)
        for v in form.values()
    )


def test_a_refused_upload_leaves_nothing_and_an_accepted_one_one_row(
    make_api: Callable[..., Api], aws: Any
) -> None:
    api = make_api()

    @settings(max_examples=examples(120))
    @given(form=forms().filter(_surrogate_free))
    @example(
        form={
            "dataset": "orders",
            "name": "orders.csv",
            "size": "²",
            "sample": (io.BytesIO(ORDERS), "s"),
        }
    )
    @example(form={"dataset": "orders", "name": "orders.csv", "size": "9" * 5000})
    @example(
        form={
            "dataset": "orders",
            "name": "a.json",
            "size": "100000",
            "sample": (io.BytesIO(b"[" * 100_000), "s"),
        }
    )
    def check(form: dict[str, Any]) -> None:
        before, accepted_before = _count(api), _validated(api)
        audited = _audit_outcomes(api)
        response = api.client.post("/api/uploads", data=form, headers=HEADERS)
        assert response.status_code in (201, 400, 413), (response.status_code, response.data[:300])
        assert response.is_json
        new_audit = _audit_outcomes(api)[len(audited) :]
        if response.status_code == 201:
            assert response.json["upload_id"]
            assert (_count(api), _validated(api)) == (before + 1, accepted_before + 1)
            assert "rejected" not in new_audit
        else:
            assert response.json["error"].strip()
            assert _count(api) == before  # nothing half-written
            assert set(new_audit) <= {"rejected"}  # but the refusal, audited by design
        assert aws.keys() == []  # creating never writes the object: the browser sends it

    check()


def test_complete_and_abort_answer_any_id_and_body_without_a_500(
    make_api: Callable[..., Api], aws: Any
) -> None:
    api = make_api()
    created = api.create("orders.csv", ORDERS)
    assert created.status_code == 201
    real_id = created.json["upload_id"]

    @settings(max_examples=examples(80))
    @given(
        upload_id=st.one_of(
            st.just(real_id),
            edge_text().filter(lambda t: "/" not in t and t.isprintable() and t.strip()),
        ),
        step=st.sampled_from(["complete", "abort"]),
        body=st.one_of(
            json_values(4),
            st.fixed_dictionaries(
                {}, optional={"multipart_upload_id": json_values(1), "reason": json_values(1)}
            ),
        ),
    )
    @example(upload_id=real_id, step="complete", body={"multipart_upload_id": "not-an-upload"})
    def check(upload_id: str, step: str, body: Any) -> None:
        response = api.client.post(
            f"/api/uploads/{upload_id}/{step}",
            data=json.dumps(body),
            content_type="application/json",
            headers=HEADERS,
        )
        assert response.status_code < 500, (response.status_code, response.data[:300])
        assert response.is_json

    check()


CRC32S = st.sampled_from(["AAAAAA==", "8JIlEg==", "/////w==", "AAAAAB==", "AAAA", ""])


def test_signing_parts_answers_any_id_and_body_without_a_500(
    make_api: Callable[..., Api], aws: Any, small_parts: None
) -> None:
    api = make_api()
    created = api.create("big.csv", big_csv(11 * 1024 * 1024))
    assert created.status_code == 201 and created.json["part_count"] == 3
    plan = created.json
    part = st.fixed_dictionaries(
        {},
        optional={
            "part_number": st.one_of(st.integers(-2, 5), json_values(1)),
            "crc32": st.one_of(CRC32S, edge_text(), json_values(1)),
        },
    )
    bodies = st.fixed_dictionaries(
        {},
        optional={
            "multipart_upload_id": st.one_of(st.just(plan["multipart_upload_id"]), json_values(1)),
            "parts": st.one_of(
                st.lists(st.one_of(part, json_values(1)), max_size=4), json_values(2)
            ),
        },
    )

    @settings(max_examples=100)
    @given(
        upload_id=st.one_of(
            st.just(plan["upload_id"]),
            edge_text().filter(lambda t: "/" not in t and t.isprintable() and t.strip()),
        ),
        body=st.one_of(bodies, json_values(3)),
    )
    @example(
        upload_id=plan["upload_id"],
        body={
            "multipart_upload_id": plan["multipart_upload_id"],
            "parts": [{"part_number": 3, "crc32": "8JIlEg=="}],
        },
    )
    def check(upload_id: str, body: Any) -> None:
        response = api.client.post(
            f"/api/uploads/{upload_id}/parts",
            data=json.dumps(body),
            content_type="application/json",
            headers=HEADERS,
        )
        assert response.status_code in (200, 400, 404), (response.status_code, response.data[:300])
        assert response.is_json
        if response.status_code == 200:
            asked = [p["part_number"] for p in body["parts"]]
            signed = response.json["parts"]
            assert [p["part_number"] for p in signed] == asked
            for p, s in zip(body["parts"], signed, strict=True):
                assert s["headers"] == {"x-amz-checksum-crc32": p["crc32"]}
        else:
            assert response.json["error"].strip()
        assert _validated(api) == 1  # signing writes nothing: the upload goes on

    check()
