"""Files that partner systems drop into the sandbox's raw zone — mostly good, sometimes broken.

Each dataset gets plausible rows (UTF-8 names, quoted commas, the odd embedded
newline) so the ingest job's real reader is exercised; a small share is broken
in the ways real exports break (ragged row, renamed column, cut-off JSON,
Latin-1 bytes), so failed runs carry real, line-numbered errors.
"""

from __future__ import annotations

import csv
import io
import json
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

NAMES = (
    "Anna Müller",
    "Zoë Dubois",
    "José Álvarez",
    "Søren Kierkegaard",
    "Łukasz Nowak",
    "Aiko Tanaka",
    "O'Brien, Patrick",
    "Chloé Martin",
    "Ngozi Okafor",
    "Иван Петров",
    "李 雷",
    "Mia Schröder",
    'Jon "JJ" Smith',
    "Fatima Zahra",
    "Ellen Ripley",
)
COUNTRIES = ("DE", "FR", "ES", "DK", "PL", "JP", "IE", "NG", "US", "GB", "NL", "CN")
CURRENCIES = ("EUR", "USD", "GBP", "JPY", "DKK", "PLN")
PAGES = (
    "/",
    "/products",
    "/products/42",
    "/cart",
    "/checkout",
    "/search?q=shoes,red",
    "/account",
    "/help/returns",
)
WAREHOUSES = ("FRA-1", "MAD-2", "WAW-1", "DUB-3")


@dataclass(frozen=True)
class DroppedFile:
    name: str  # file name as the partner system names it
    body: bytes
    rows: int  # data rows a correct reader finds (0 when broken)
    broken: str | None  # how it is broken, for logs and tests


def _csv(header: list[str], rows: list[list[object]]) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode("utf-8")


def orders(rng: random.Random, n: int, at: datetime) -> tuple[list[str], list[list[object]]]:
    header = ["order_id", "customer_id", "amount", "currency", "ordered_at", "note"]
    rows: list[list[object]] = []
    for i in range(n):
        note = ""
        r = rng.random()
        if r < 0.05:
            note = "gift wrap, please"
        elif r < 0.07:
            note = "deliver to reception\nbuilding B"
        ts = at - timedelta(seconds=rng.randint(0, 3600))
        rows.append(
            [
                f"ORD-{at:%Y%m%d}-{rng.randint(0, 999999):06d}-{i}",
                f"C{rng.randint(1, 90000):06d}",
                f"{rng.uniform(3, 900):.2f}",
                rng.choice(CURRENCIES),
                f"{ts:%Y-%m-%dT%H:%M:%SZ}",
                note,
            ]
        )
    return header, rows


def customers(rng: random.Random, n: int, at: datetime) -> tuple[list[str], list[list[object]]]:
    header = ["customer_id", "name", "email", "country", "tier", "created_at"]
    rows: list[list[object]] = []
    for _ in range(n):
        name = rng.choice(NAMES)
        handle = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum())[:10] or "user"
        rows.append(
            [
                f"C{rng.randint(1, 90000):06d}",
                name,
                f"{handle}{rng.randint(1, 999)}@example.com",
                rng.choice(COUNTRIES),
                rng.choice(("free", "plus", "pro")),
                f"{at - timedelta(days=rng.randint(0, 2000)):%Y-%m-%d}",
            ]
        )
    return header, rows


def inventory(rng: random.Random, n: int, at: datetime) -> tuple[list[str], list[list[object]]]:
    header = ["warehouse", "sku", "qty", "updated_at"]
    rows = [
        [
            rng.choice(WAREHOUSES),
            f"SKU-{rng.randint(10000, 99999)}",
            rng.randint(0, 5000),
            f"{at:%Y-%m-%dT%H:%M:%SZ}",
        ]
        for _ in range(n)
    ]
    return header, rows


def clicks(rng: random.Random, n: int, at: datetime) -> list[dict[str, object]]:
    return [
        {
            "event_id": f"{rng.getrandbits(64):016x}",
            "session_id": f"s-{rng.getrandbits(32):08x}",
            "url": rng.choice(PAGES),
            "referrer": rng.choice(
                ("", "https://www.example.org/", "https://news.example.net/a?b=1")
            ),
            "ts": f"{at - timedelta(seconds=rng.randint(0, 1800)):%Y-%m-%dT%H:%M:%SZ}",
            "user_agent": rng.choice(("Mozilla/5.0 (X11; Linux x86_64)", "Mozilla/5.0 (iPhone)")),
        }
        for _ in range(n)
    ]


def _break_csv(
    rng: random.Random, header: list[str], rows: list[list[object]]
) -> tuple[bytes, str]:
    kind = rng.choice(("ragged", "renamed", "latin1"))
    if kind == "ragged":
        i = rng.randrange(len(rows))
        rows = [list(r) for r in rows]
        rows[i] = [*rows[i], "unexpected"]
        return _csv(header, rows), f"row {i + 1} has one value too many"
    if kind == "renamed":
        header = [h.upper() if h == header[1] else h for h in header]
        return _csv(header, rows), f"column {header[1]!r} was renamed"
    body = _csv(header, rows)
    cut = body.index(b"\n", len(body) // 2) + 1
    return body[:cut] + "Müller".encode("latin-1") + b"," + body[cut:], "a Latin-1 byte"


def _break_json(
    rng: random.Random, records: list[dict[str, object]], ndjson: bool
) -> tuple[bytes, str]:
    if ndjson:
        lines = [json.dumps(r, ensure_ascii=False) for r in records]
        i = rng.randrange(len(lines))
        lines[i] = lines[i][: len(lines[i]) // 2]
        return ("\n".join(lines) + "\n").encode(), f"line {i + 1} is cut off"
    text = json.dumps(records, ensure_ascii=False, indent=1)
    return text[: int(len(text) * 0.8)].encode(), "the array is cut off"


GENERATORS: dict[str, Callable[[random.Random, int, datetime], object]] = {
    "orders": orders,
    "customers": customers,
    "inventory": inventory,
    "clickstream": clicks,
}
TYPICAL_ROWS = {"orders": 400, "customers": 900, "inventory": 250, "clickstream": 1500}


def drop(
    dataset: str,
    rng: random.Random,
    at: datetime,
    *,
    broken_rate: float = 0.05,
    scale: float = 1.0,
) -> DroppedFile:
    """One file as the dataset's source system would export it at `at` (`scale` sizes it)."""
    n = max(1, int(rng.lognormvariate(0, 0.5) * TYPICAL_ROWS.get(dataset, 300) * scale))
    broken = rng.random() < broken_rate
    stamp = f"{at:%Y%m%dT%H%M%S}"
    if dataset == "clickstream":
        records = clicks(rng, n, at)
        ndjson = rng.random() < 0.7
        name = f"clicks-{stamp}.{'ndjson' if ndjson else 'json'}"
        if broken:
            body, why = _break_json(rng, records, ndjson)
            return DroppedFile(name, body, 0, why)
        if ndjson:
            body = ("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n").encode()
        else:
            body = json.dumps(records, ensure_ascii=False).encode()
        return DroppedFile(name, body, n, None)
    make = GENERATORS[dataset]
    header, rows = make(rng, n, at)  # type: ignore[misc]
    name = f"{dataset}-{stamp}.csv"
    if broken:
        body, why = _break_csv(rng, header, rows)
        return DroppedFile(name, body, 0, why)
    return DroppedFile(name, _csv(header, rows), n, None)


# How often each dataset's source system drops a file (seconds), live and in history.
DROP_EVERY_S = {"orders": 600, "clickstream": 300, "customers": 3 * 3600, "inventory": 1800}
HISTORY_DROP_EVERY_S = {
    "orders": 2 * 3600,
    "clickstream": 2 * 3600,
    "customers": 12 * 3600,
    "inventory": 6 * 3600,
}
