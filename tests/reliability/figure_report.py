"""Figures a reliability test measured, on the terminal whatever the capture mode.

Why: issue 12 asks figures, not claims, and `make test` runs pytest without `-s`, where
a print of a passing test is swallowed. Lines go past the capture (as live logging does)
and into the test's user properties (JUnit XML) too.
"""

from __future__ import annotations

import pytest


def report(request: pytest.FixtureRequest, tag: str, lines: list[str]) -> None:
    """Write `lines` as `[tag] test-name: line` and keep them as the test's properties."""
    for line in lines:
        request.node.user_properties.append(("figure", line))
    plugins = request.config.pluginmanager
    reporter = plugins.get_plugin("terminalreporter")
    capture = plugins.get_plugin("capturemanager")
    if reporter is None or capture is None or not lines:
        return
    with capture.global_and_fixture_disabled():
        reporter.ensure_newline()
        for line in lines:
            reporter.write_line(f"[{tag}] {request.node.name}: {line}")
