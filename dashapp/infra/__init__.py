"""CloudFormation for the AWS side, rendered from the settings: `python -m dashapp.infra render`.

CloudFormation has no loops, and every dataset needs its own rule, workflow, EVENT
trigger and job, so the templates are generated from `SMD_DATASETS` (and bucket,
queue and job names) instead of copied by hand. Two stacks:

- `infra/core.yaml`: KMS key, raw bucket (EventBridge notifications on), processed
  and Athena-results buckets, the collector's SQS queue with the two rules feeding
  it (S3 "Object Created" on the raw bucket, "Glue Job State Change") and a queue
  policy that admits only those two rules, and the Glue job, collector and web roles.
- `infra/datasets.yaml`: per dataset a Glue job, a workflow with an EVENT trigger
  starting that job, and a rule matching the dataset's prefix whose target is the
  workflow (through a role that may only notify those workflows); plus the job
  control permissions (start/stop exactly these jobs) attached to the web and
  collector roles.

The rendered files are committed; `tests/infra/test_cfn.py` checks they match the
default settings, pass cfn-lint, and wire what a reviewer cares about. Intrinsic
functions are written in their long form (`{"Ref": ...}`) so the YAML is plain.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from dashapp.config import Settings
from dashapp.infra.core import core_template
from dashapp.infra.datasets import datasets_template

__all__ = ["INFRA_DIR", "render", "to_yaml"]

INFRA_DIR = Path(__file__).resolve().parents[2] / "infra"


def to_yaml(template: dict[str, Any]) -> str:
    """Stable YAML (keys in insertion order, no anchors, wide lines)."""

    class _NoAliases(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:
            return True

    return yaml.dump(template, Dumper=_NoAliases, sort_keys=False, width=120, allow_unicode=True)


def render(settings: Settings) -> dict[str, str]:
    """File name under infra/ → its text."""
    return {
        "core.yaml": to_yaml(core_template(settings)),
        "datasets.yaml": to_yaml(datasets_template(settings)),
    }
