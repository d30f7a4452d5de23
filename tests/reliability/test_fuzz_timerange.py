"""The `range=` grammar under random input: a window or a sentence, never a traceback.

Every page reads its URL's `range=` through these functions, so an exception here
would be a broken page for anyone who edits or mangles a link.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from dashapp.timerange import (
    MAX_SPAN,
    SEPARATOR,
    TimeRangeError,
    custom_range,
    normalise_range,
    parse_range,
    parse_search,
    resolve_range,
)
from tests.reliability.conftest import NOW, examples
from tests.reliability.outcomes import attempt
from tests.reliability.strategies import edge_text, instants, iso_text, json_values


def ranges() -> st.SearchStrategy[str]:
    relative = st.builds(
        lambda n, u, pad: f"{pad}{n}{u}{pad}",
        st.integers(min_value=0, max_value=10**7),
        st.sampled_from(["m", "h", "d", "M", "H", "D", "s", "w", ""]),
        st.sampled_from(["", " "]),
    )
    absolute = st.builds(lambda a, b: f"{a}{SEPARATOR}{b}", iso_text(), iso_text())
    return st.one_of(relative, absolute, edge_text())


@settings(max_examples=examples(300))
@given(
    raw=st.one_of(st.none(), ranges(), json_values(2)), now=instants().filter(lambda d: d.year > 1)
)
@example(raw="9999-12-31T23:00-05:00~9999-12-31T23:59-05:00", now=NOW)
@example(raw="0001-01-01T00:00+01:00~0001-01-02T00:00", now=NOW)
@example(raw="0999-01-01T00:00Z~1000-01-01T00:00Z", now=NOW)  # year 999 must keep its 0
def test_a_range_is_a_window_inside_the_limits_or_a_sentence(raw: object, now) -> None:
    found, refused = attempt(lambda: parse_range(raw, now), TimeRangeError)
    if refused is not None:
        assert str(refused).strip()
        return
    assert found.since < found.until
    assert found.until - found.since <= MAX_SPAN
    assert found.label
    # The canonical text reopens the same window: a copied link shows the same view.
    again = parse_range(found.value, now)
    assert (again.since, again.until) == (found.since, found.until)


@settings(max_examples=examples(200))
@given(raw=st.one_of(st.none(), ranges(), json_values(2)))  # a crafted callback sends any JSON
def test_a_mangled_link_still_opens_with_the_reason_shown(raw: object) -> None:
    found, error = resolve_range(raw, NOW)
    value, reason = normalise_range(raw)
    assert found.since < found.until
    assert (error is None) == (reason is None)
    assert value == found.value


@settings(max_examples=examples(300))
@given(since=st.one_of(iso_text(), json_values(1)), until=st.one_of(iso_text(), json_values(1)))
@example(since="9999-12-31T23:00", until="9999-12-31T23:59:59-01:00")
@example(since="09990101000000000", until="1000-01-01000000000")
def test_custom_from_to_is_a_range_value_or_a_sentence(
    since: str | None, until: str | None
) -> None:
    value, refused = attempt(lambda: custom_range(since, until), TimeRangeError)
    if refused is not None:
        assert str(refused).strip()
        return
    assert parse_range(value, NOW).relative is False


@settings(max_examples=examples(200))
@given(search=st.one_of(json_values(1), st.text(alphabet="?&=%+;ab0 ", max_size=30)))
def test_any_query_string_reads_as_plain_text_pairs(search: object) -> None:
    state = parse_search(search)
    assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in state.items())
