"""The sandbox account's datasets: what `make demo` hands the dashboard as `SMD_DATASETS`.

The dashboard itself ships no datasets (production must name its own); these four
match the sandbox's ingest jobs in `catalog.py`.
"""

from __future__ import annotations

import json

from dashapp.config import Dataset

DATASETS: tuple[Dataset, ...] = (
    Dataset(
        name="orders",
        title="Sales orders",
        description="Order lines exported nightly by the shop system.",
        prefix="sales/orders/",
        glue_job="sales-orders-ingest",
        expected_columns=("order_id", "customer_id", "amount", "currency", "ordered_at"),
        expected_interval_s=26 * 3600,
    ),
    Dataset(
        name="customers",
        title="Customer master",
        description="Customer records from the CRM.",
        prefix="crm/customers/",
        glue_job="crm-customers-ingest",
        expected_interval_s=26 * 3600,
    ),
    Dataset(
        name="clickstream",
        title="Web clickstream",
        description="Page-view events from the web tier, NDJSON or JSON arrays.",
        prefix="web/clickstream/",
        glue_job="web-clickstream-ingest",
        formats=("json", "ndjson", "csv"),
        expected_interval_s=2 * 3600,
    ),
    Dataset(
        name="inventory",
        title="Warehouse inventory",
        description="Stock levels per warehouse and SKU.",
        prefix="ops/inventory/",
        glue_job="ops-inventory-snapshot",
        expected_interval_s=26 * 3600,
    ),
)


#: The Glue table of each dataset's processed JSON lines: (column, Glue type), in file order.
#: The ingest jobs write every CSV value as a JSON string; the JSON SerDe (and the sandbox's
#: Athena) casts them to these types when read, so numbers and dates are typed in SQL.
TABLE_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "orders": (
        ("order_id", "string"),
        ("customer_id", "string"),
        ("amount", "double"),
        ("currency", "string"),
        ("ordered_at", "string"),
        ("note", "string"),
    ),
    "customers": (
        ("customer_id", "string"),
        ("name", "string"),
        ("email", "string"),
        ("country", "string"),
        ("tier", "string"),
        ("created_at", "date"),
    ),
    "clickstream": (
        ("event_id", "string"),
        ("session_id", "string"),
        ("url", "string"),
        ("referrer", "string"),
        ("ts", "string"),
        ("user_agent", "string"),
    ),
    "inventory": (
        ("warehouse", "string"),
        ("sku", "string"),
        ("qty", "bigint"),
        ("updated_at", "string"),
    ),
}


def datasets_json() -> str:
    """`SMD_DATASETS` for the demo and the tests: the four datasets above as JSON."""
    return json.dumps([d.model_dump(mode="json", exclude_defaults=True) for d in DATASETS])
