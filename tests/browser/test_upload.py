"""Uploading through the page on the running product: real Chromium sends a CSV and a JSON
file straight to the sandbox's S3 (a large one in parts, each with the CRC32 the page
computed), the sandbox's EventBridge trigger starts each dataset's Glue job, and the page's
trail follows both to SUCCEEDED with their real row counts."""

from __future__ import annotations

import json
import re
import uuid
import zlib
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from tests.browser.conftest import assert_accessible, screenshot, wait_for_data
from tests.sandbox_process import client
from tests.uploads.parts_protocol import crc32_base64

RUN_TIMEOUT_MS = 180_000  # run + the metrics cycle that brings its row counts


def _files(tmp_path: Path) -> tuple[Path, Path, str]:
    tag = uuid.uuid4().hex[:8]
    csv_path = tmp_path / f"orders {tag}.csv"
    rows = [f"{i},c-{i},{i}.50,EUR,2026-11-25T10:00:00Z" for i in range(1, 26)]
    csv_path.write_text(
        "order_id,customer_id,amount,currency,ordered_at\n" + "\n".join(rows) + "\n",
        encoding="utf-8",
    )
    json_path = tmp_path / f"clicks-{tag}.json"
    json_path.write_text(
        json.dumps([{"event_id": i, "page": f"/p/{i}", "user": f"u{i % 3}"} for i in range(12)]),
        encoding="utf-8",
    )
    return csv_path, json_path, tag


def test_a_csv_and_a_json_file_go_through_the_page_to_succeeded_runs(
    stack_context, live_stack, tmp_path, artifacts
):
    csv_path, json_path, tag = _files(tmp_path)
    context, _ = stack_context()
    page = context.new_page()
    page.goto("/upload")
    wait_for_data(page)
    expect(page.get_by_role("heading", level=1)).to_have_text("Upload")
    zone = page.get_by_role("button", name="Choose files to upload into the selected dataset")
    expect(page.locator("#upload-input")).to_be_attached()

    # A file chosen through the (hidden) file input, as a click on the zone opens it.
    page.select_option("#upload-dataset", "orders")
    page.set_input_files("#upload-input", str(csv_path))
    csv_row = page.locator(".smd-upload-item").filter(has_text=csv_path.name)
    expect(csv_row).to_have_attribute("data-state", "uploaded", timeout=30_000)
    expect(csv_row.locator("progress")).to_have_attribute("value", "100")

    # The keyboard path: Enter (or Space) on the focused zone opens the file chooser, as a
    # click does. The chooser is stubbed so the test does not depend on dialog timing.
    page.select_option("#upload-dataset", "clickstream")
    expect(page.locator("#upload-dataset-info")).to_contain_text("web-clickstream-ingest")
    page.evaluate(
        "() => { window.__choosers = 0; document.getElementById('upload-input')"
        ".addEventListener('click', e => { window.__choosers += 1; e.preventDefault(); }); }"
    )
    zone.focus()
    expect(zone).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press(" ")
    zone.click()
    assert page.evaluate("() => window.__choosers") == 3
    page.set_input_files("#upload-input", str(json_path))
    json_row = page.locator(".smd-upload-item").filter(has_text=json_path.name)
    expect(json_row).to_have_attribute("data-state", "uploaded", timeout=30_000)

    # The trail, re-read from the database, follows each to its run's end.
    csv_trail = page.locator(".smd-trail").filter(has_text=csv_path.name)
    json_trail = page.locator(".smd-trail").filter(has_text=json_path.name)
    expect(csv_trail).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT_MS)
    expect(json_trail).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT_MS)
    expect(csv_trail).to_contain_text("Read 25 rows, wrote 25 rows.", timeout=RUN_TIMEOUT_MS)
    expect(json_trail).to_contain_text("Read 12 rows, wrote 12 rows.", timeout=RUN_TIMEOUT_MS)
    expect(csv_trail).to_contain_text("Run jr_")

    # The objects: right bucket and prefix, date-partitioned, uuid-named, SSE-KMS, uploader.
    s3 = client(live_stack.sandbox_url, "s3")
    expected = {
        "sales/orders/": f"orders_{tag}.csv",
        "web/clickstream/": f"clicks-{tag}.json",
    }
    for prefix, name in expected.items():
        keys = [
            o["Key"]
            for o in s3.list_objects_v2(Bucket="smd-raw", Prefix=prefix).get("Contents", [])
            if o["Key"].endswith(name)
        ]
        assert len(keys) == 1, keys
        parts = keys[0][len(prefix) :].split("/")
        assert len(parts) == 4 and len(parts[0]) == 4, keys[0]  # yyyy/mm/dd/<uuid>-<name>
        head = s3.head_object(Bucket="smd-raw", Key=keys[0])
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["SSEKMSKeyId"]
        assert head["Metadata"]["uploaded-by"] == "local"

    assert_accessible(page, "/upload after two uploads (light)")
    screenshot(page, artifacts, "upload-trail", "light")

    dark, _ = stack_context(color_scheme="dark")
    dark_page = dark.new_page()
    dark_page.goto("/upload")
    wait_for_data(dark_page)
    expect(dark_page.locator(".smd-trail").filter(has_text=csv_path.name)).to_contain_text(
        "Succeeded"
    )
    assert_accessible(dark_page, "/upload with uploads (dark)")
    screenshot(dark_page, artifacts, "upload-trail", "dark")

    dark_page.goto("/uploads?dataset=orders&range=24h")
    wait_for_data(dark_page)
    grid = dark_page.locator(".smd-uploads-grid")
    expect(grid).to_contain_text(csv_path.name)
    expect(grid).not_to_contain_text(json_path.name)
    expect(dark_page.locator("#uploads-export")).to_have_attribute(
        "href", re.compile(r"^/export/uploads\.csv\?dataset=orders&since=")
    )
    assert_accessible(dark_page, "/uploads (dark)")
    screenshot(dark_page, artifacts, "uploads-history", "dark")
    # The filters live in the link (the page's default range, 7d, is left out of it).
    dark_page.get_by_label("7d", exact=True).check()
    dark_page.wait_for_function("() => window.location.search === '?dataset=orders'")
    dark_page.locator("#uploads-status").select_option("succeeded")
    dark_page.wait_for_function(
        "() => window.location.search === '?dataset=orders&status=succeeded'"
    )
    expect(grid).to_contain_text(csv_path.name)


def test_a_bad_file_is_refused_on_the_page_and_nothing_reaches_s3(
    stack_context, live_stack, tmp_path
):
    bad = tmp_path / f"ragged-{uuid.uuid4().hex[:8]}.csv"
    bad.write_text(
        "order_id,customer_id,amount,currency,ordered_at\n1,c,1,EUR,2026-01-01\n2,c,1\n",
        encoding="utf-8",
    )
    context, traffic = stack_context()
    page = context.new_page()
    page.goto("/upload")
    wait_for_data(page)
    page.select_option("#upload-dataset", "orders")
    page.set_input_files("#upload-input", str(bad))
    row = page.locator(".smd-upload-item").filter(has_text=bad.name)
    expect(row).to_have_attribute("data-state", "rejected")
    expect(row.get_by_role("status")).to_have_text(
        "Not uploaded: Line 3: Expected 5 values (like the header), found 3."
    )
    s3 = client(live_stack.sandbox_url, "s3")
    listed = s3.list_objects_v2(Bucket="smd-raw", Prefix="sales/orders/").get("Contents", [])
    assert not [o for o in listed if o["Key"].endswith(bad.name)]
    # The refusal is the one failed request this page made.
    assert [e.split(" ")[0] for e in traffic.http_errors] == ["400"]
    traffic.http_errors.clear()


def test_a_large_file_goes_in_parallel_parts_with_their_crc32s_and_failed_parts_are_redone(
    stack_context, live_stack, tmp_path, monkeypatch
):
    from dashapp.actions.uploads import parts

    # The web app runs in this process: multipart from 6 MiB, in 5 MiB parts (S3's minimum).
    monkeypatch.setattr(parts, "MULTIPART_THRESHOLD", 6 * parts.MIB)
    monkeypatch.setattr(parts, "MIN_PART_SIZE", 5 * parts.MIB)
    path = tmp_path / f"big-{uuid.uuid4().hex[:8]}.csv"
    row = b"7,c-7,7.00,EUR,2026-11-25T10:00:00Z\n"
    rows = (12 * parts.MIB) // len(row)
    body = b"order_id,customer_id,amount,currency,ordered_at\n" + row * rows
    path.write_bytes(body)
    chunks = [body[i : i + 5 * parts.MIB] for i in range(0, len(body), 5 * parts.MIB)]

    context, traffic = stack_context()
    page = context.new_page()
    failed_once: list[str] = []
    corrupted_once: list[str] = []
    sent: dict[int, list[str | None]] = {}
    answered: dict[int, list[int]] = {}

    def flaky_part_two(route):
        if not failed_once:
            failed_once.append(route.request.url)
            route.abort("connectionreset")
        else:
            route.continue_()

    def corrupt_part_three(route):
        if not corrupted_once:  # one byte flipped on the way: S3 must refuse the part
            corrupted_once.append(route.request.url)
            data = route.request.post_data_buffer
            route.continue_(post_data=data[:100] + bytes([data[100] ^ 1]) + data[101:])
        else:
            route.continue_()

    def part_number(url: str) -> int | None:
        query = parse_qs(urlsplit(url).query)
        return int(query["partNumber"][0]) if "partNumber" in query else None

    def record_part(request):
        if request.method == "PUT" and (number := part_number(request.url)):
            sent.setdefault(number, []).append(request.headers.get("x-amz-checksum-crc32"))

    def record_answer(response):
        if response.request.method == "PUT" and (number := part_number(response.url)):
            answered.setdefault(number, []).append(response.status)

    page.on("request", record_part)
    page.on("response", record_answer)
    page.route(f"{live_stack.sandbox_url}/**partNumber=2**", flaky_part_two)
    page.route(f"{live_stack.sandbox_url}/**partNumber=3**", corrupt_part_three)
    page.goto("/upload")
    wait_for_data(page)
    page.select_option("#upload-dataset", "orders")
    page.set_input_files("#upload-input", str(path))
    item = page.locator(".smd-upload-item").filter(has_text=path.name)
    expect(item).to_have_attribute("data-state", "uploaded", timeout=60_000)
    # Part 2's connection failed once, S3 refused part 3 once (BadDigest: a byte changed on
    # the way), both were sent again, and the upload completed.
    assert (len(failed_once), len(corrupted_once)) == (1, 1)
    assert answered == {1: [200], 2: [200], 3: [400, 200]}
    assert [e.split(" ")[0] for e in traffic.http_errors] == ["400"]  # that refusal alone
    traffic.http_errors.clear()
    # Every PUT carried the CRC32 of the file's bytes, as computed in the page (retries too).
    assert sent == {n: [crc32_base64(c)] * (1 if n == 1 else 2) for n, c in enumerate(chunks, 1)}
    trail = page.locator(".smd-trail").filter(has_text=path.name)
    expect(trail).to_have_attribute("data-status", "succeeded", timeout=RUN_TIMEOUT_MS)
    expect(trail).to_contain_text(
        f"Read {rows:,} rows, wrote {rows:,} rows.", timeout=RUN_TIMEOUT_MS
    )

    s3 = client(live_stack.sandbox_url, "s3")
    (key,) = [
        o["Key"]
        for o in s3.list_objects_v2(Bucket="smd-raw", Prefix="sales/orders/").get("Contents", [])
        if o["Key"].endswith(path.name)
    ]
    head = s3.head_object(Bucket="smd-raw", Key=key)
    assert head["ContentLength"] == path.stat().st_size
    assert head["ETag"].endswith('-3"')  # assembled from three parts
    assert head["ServerSideEncryption"] == "aws:kms"
    # S3 holds the composite of the three parts' CRC32s: completion named each one.
    got = s3.get_object(Bucket="smd-raw", Key=key, ChecksumMode="ENABLED")
    digests = b"".join(zlib.crc32(c).to_bytes(4, "big") for c in chunks)
    assert (got["ChecksumType"], got["ChecksumCRC32"]) == (
        "COMPOSITE",
        f"{crc32_base64(digests)}-3",
    )
    got["Body"].close()
