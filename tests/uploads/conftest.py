"""The upload API against moto's S3 and Glue and a real database (PostgreSQL and SQLite).

The app is a bare Flask server carrying the product's services and the uploads and
export blueprints, so these tests exercise the routes without the Dash pages.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from moto import mock_aws

from dashapp.actions.uploads import parts
from dashapp.clock import FixedClock
from dashapp.config import Settings
from dashapp.services import Services
from dashapp.web.export import export_blueprint
from dashapp.web.uploads_api import uploads_blueprint
from sandbox.fidelity import apply_fidelity
from tests.uploads.parts_protocol import part_of, put_part

NOW = datetime(2026, 11, 25, 18, 32, 17, tzinfo=UTC)
HEADERS = {"X-SMD-Upload": "1"}


@dataclass
class Aws:
    s3: Any
    glue: Any
    kms_key_arn: str

    def keys(self, bucket: str = "smd-raw") -> list[str]:
        return [o["Key"] for o in self.s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


@pytest.fixture
def aws() -> Iterator[Aws]:
    """moto with the sandbox's shape and fidelity layer (S3 checks part checksums as AWS
    does): KMS-encrypted raw bucket, a Glue job per dataset."""
    apply_fidelity()
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        kms = boto3.client("kms", region_name="us-east-1")
        glue = boto3.client("glue", region_name="us-east-1")
        key = kms.create_key(Description="pipeline data")["KeyMetadata"]["Arn"]
        for bucket in ("smd-raw", "smd-processed"):
            s3.create_bucket(Bucket=bucket)
            s3.put_bucket_encryption(
                Bucket=bucket,
                ServerSideEncryptionConfiguration={
                    "Rules": [
                        {
                            "ApplyServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": key,
                            }
                        }
                    ]
                },
            )
        for job in ("sales-orders-ingest", "web-clickstream-ingest"):
            glue.create_job(
                Name=job,
                Role="arn:aws:iam::123456789012:role/glue",
                Command={"Name": "glueetl", "ScriptLocation": "s3://smd-processed/x.py"},
            )
        yield Aws(s3=s3, glue=glue, kms_key_arn=key)


@dataclass
class Api:
    client: FlaskClient
    svc: Services
    clock: FixedClock

    def create(self, name: str, body: bytes, dataset: str = "orders", **extra: Any) -> Any:
        from dashapp.actions.uploads.sniff import SAMPLE_BYTES

        data = {
            "dataset": dataset,
            "name": name,
            "size": str(len(body)),
            "sample": (io.BytesIO(body[:SAMPLE_BYTES]), "sample"),
        }
        return self.client.post(
            "/api/uploads", data=data, headers={**HEADERS, **extra.pop("headers", {})}
        )

    def complete(self, upload_id: str, multipart_upload_id: str | None = None) -> Any:
        return self.client.post(
            f"/api/uploads/{upload_id}/complete",
            json={"multipart_upload_id": multipart_upload_id},
            headers=HEADERS,
        )

    def abort(self, upload_id: str, **body: Any) -> Any:
        return self.client.post(f"/api/uploads/{upload_id}/abort", json=body, headers=HEADERS)

    def sign_parts(self, upload_id: str, body: Any, **headers: str) -> Any:
        """POST /api/uploads/<id>/parts as it comes back (status and JSON)."""
        return self.client.post(
            f"/api/uploads/{upload_id}/parts", json=body, headers={**HEADERS, **headers}
        )

    def signer(self, plan: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def sign(body: dict[str, Any]) -> dict[str, Any]:
            r = self.sign_parts(plan["upload_id"], body)
            assert r.status_code == 200, r.json
            return r.json

        return sign

    def put_part(self, plan: dict[str, Any], body: bytes, number: int) -> requests.Response:
        """Part `number` of `body` as the page sends it: CRC32, signed URL, PUT."""
        return put_part(self.signer(plan), plan, number, part_of(plan, body, number))

    def send(self, plan: dict[str, Any], body: bytes) -> None:
        """What the browser does with the plan: POST the form, or PUT every part."""
        if plan["method"] == "post":
            post = plan["post"]
            r = requests.post(post["url"], data=post["fields"], files={"file": ("f", body)})
            assert r.status_code == 204, r.text
            return
        for number in range(1, plan["part_count"] + 1):
            r = self.put_part(plan, body, number)
            assert r.status_code == 200, r.text

    def upload(self, name: str, body: bytes, dataset: str = "orders") -> dict[str, Any]:
        created = self.create(name, body, dataset)
        assert created.status_code == 201, created.json
        plan = created.json
        self.send(plan, body)
        done = self.complete(plan["upload_id"], plan["multipart_upload_id"])
        assert done.status_code == 200, done.json
        return {**plan, **done.json}


@pytest.fixture
def make_api(db_url: str, aws: Aws) -> Callable[..., Api]:
    def make(**overrides: Any) -> Api:
        settings = Settings(database_url=db_url, _env_file=None, **overrides)
        clock = FixedClock(NOW)
        svc = Services.build(settings, clock=clock)
        app = Flask("uploads-test")
        app.config["TESTING"] = True
        svc.attach(app)
        app.register_blueprint(uploads_blueprint())
        app.register_blueprint(export_blueprint())
        return Api(app.test_client(), svc, clock)

    return make


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Multipart from 6 MiB in 5 MiB parts (S3's minimum), so tests stay small."""
    monkeypatch.setattr(parts, "MULTIPART_THRESHOLD", 6 * parts.MIB)
    monkeypatch.setattr(parts, "MIN_PART_SIZE", 5 * parts.MIB)


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()
