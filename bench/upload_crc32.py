"""How fast the upload page checksums a part in Chromium, against the network it feeds.

The page (assets/smd-upload.js) computes each part's CRC32 with the vendored SheetJS
crc-32 before sending the part, on the page's own thread, in 4 MiB slices. That must
stay far faster than any upload it serves, or it becomes the bottleneck. Prints, all
measured in this run in headless Chromium (/usr/bin/chromium):
1. the page's own function (`window.smdUpload.crc32Base64`) over 16 MiB parts: MB/s,
   and the same bytes read from a Blob first (what the page does: slice, read, CRC32);
2. crc-32 over one whole buffer (no slicing, no pauses between slices);
3. against Python's zlib.crc32 (C) over the same number of bytes on this machine,
   as a ratio, and a check that both give the same CRC32 for the same bytes.

Usage: .venv/bin/python bench/upload_crc32.py [--total-mb 256]
"""

from __future__ import annotations

import argparse
import base64
import os
import sys
import time
import zlib
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402

MIB = 1024 * 1024
PART_MIB = 16  # the page's part size for files up to 160 GB (dashapp/actions/uploads/parts.py)

# Fills `total` bytes (xorshift: incompressible, deterministic), then times the page's steps.
TIMING_JS = """
async ([totalMiB, partMiB]) => {
    const part = partMiB * 1024 * 1024;
    const parts = totalMiB / partMiB;
    const bytes = new Uint8Array(part);
    let x = 2463534242;
    for (let i = 0; i < bytes.length; i += 4) {
        x ^= x << 13; x ^= x >>> 17; x ^= x << 5;
        bytes[i] = x & 255; bytes[i + 1] = (x >>> 8) & 255;
        bytes[i + 2] = (x >>> 16) & 255; bytes[i + 3] = x >>> 24;
    }
    const blob = new Blob(Array.from({length: parts}, () => bytes));
    await window.smdUpload.crc32Base64(bytes);  // warm up the JIT, as a first part does
    window.CRC32.buf(bytes, 0);
    let t = performance.now();
    let crc = "";
    for (let p = 0; p < parts; p++) { crc = await window.smdUpload.crc32Base64(bytes); }
    const pageMs = performance.now() - t;
    t = performance.now();
    for (let p = 0; p < parts; p++) {
        const slice = new Uint8Array(await blob.slice(p * part, (p + 1) * part).arrayBuffer());
        await window.smdUpload.crc32Base64(slice);
    }
    const readMs = performance.now() - t;
    const whole = new Uint8Array(part * 4);
    for (let k = 0; k < 4; k++) { whole.set(bytes, k * part); }
    t = performance.now();
    for (let p = 0; p < parts / 4; p++) { window.CRC32.buf(whole, 0); }
    const wholeMs = performance.now() - t;
    let sample = "";
    for (let i = 0; i < 4096; i++) { sample += String.fromCharCode(bytes[i]); }
    return {pageMs, readMs, wholeMs, crc, sample: btoa(sample), partBytes: part};
}
"""


def xorshift_part(size: int) -> bytes:
    """The same bytes the page generates (to check both CRC32s agree)."""
    out = bytearray(size)
    x = 2463534242
    for i in range(0, size, 4):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        out[i : i + 4] = x.to_bytes(4, "little")
    return bytes(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--total-mb", type=int, default=256, help="MiB to checksum (16 MiB parts)")
    args = ap.parse_args()
    total = max(PART_MIB * 4, args.total_mb // (PART_MIB * 4) * PART_MIB * 4)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto("about:blank")
            page.add_script_tag(path=str(ROOT / "assets" / "vendor" / "crc-32" / "crc32.js"))
            page.add_script_tag(path=str(ROOT / "assets" / "smd-upload.js"))
            result = page.evaluate(TIMING_JS, [total, PART_MIB])
        finally:
            browser.close()

    part = xorshift_part(result["partBytes"])
    assert base64.b64decode(result["sample"]) == part[:4096], "the page's bytes differ"
    python_crc = base64.b64encode(zlib.crc32(part).to_bytes(4, "big")).decode()
    data = os.urandom(PART_MIB * MIB)
    started = time.perf_counter()
    for _ in range(total // PART_MIB):
        zlib.crc32(data)
    python_s = time.perf_counter() - started

    mb = total * MIB / 1e6
    page_mbs = mb / (result["pageMs"] / 1000)
    read_mbs = mb / (result["readMs"] / 1000)
    whole_mbs = mb / (result["wholeMs"] / 1000)
    python_mbs = mb / python_s
    print(f"CRC32 of {total} MiB in {PART_MIB} MiB parts, headless Chromium ({CHROMIUM})")
    print(f"1. page's crc32Base64 (4 MiB slices)   {page_mbs:8.0f} MB/s")
    print(f"   read from a Blob, then crc32Base64   {read_mbs:8.0f} MB/s")
    print(f"2. crc-32 over whole 64 MiB buffers    {whole_mbs:8.0f} MB/s")
    print(f"3. Python zlib.crc32 (C), same bytes   {python_mbs:8.0f} MB/s")
    print(f"   ratio page / zlib                   {page_mbs / python_mbs:8.2f}")
    same = "same" if result["crc"] == python_crc else f"DIFFERENT ({result['crc']} vs {python_crc})"
    print(f"   CRC32 of one part: page {result['crc']}, zlib {python_crc}: {same}")
    print(f"   a 1 GB upload spends ~{1000 / read_mbs:.1f} s of the page's thread on checksums")
    return 0 if result["crc"] == python_crc else 1


if __name__ == "__main__":
    raise SystemExit(main())
