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


def datasets_json() -> str:
    """`SMD_DATASETS` for the demo and the tests: the four datasets above as JSON."""
    return json.dumps([d.model_dump(mode="json", exclude_defaults=True) for d in DATASETS])
