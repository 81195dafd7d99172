"""The `distinct` and `empty` diagnostics (paper.md xgen decision, "Metrics")."""

import pytest

from xgen_cli.metrics.diagnostics import distinct_share, empty_share


def test_distinct_share():
    assert distinct_share(["a", "b", "c", "d"]) == 100.0
    assert distinct_share(["dict dict dict"] * 4) == 25.0
    assert distinct_share(["a", "a", "b"]) == pytest.approx(200 / 3)
    assert distinct_share([]) == 0.0


def test_distinct_compares_exact_strings():
    assert distinct_share(["a", "a ", "A"]) == 100.0


def test_empty_share():
    assert empty_share(["", " ", "\n\t", "x"]) == 75.0
    assert empty_share(["x", "y"]) == 0.0
    assert empty_share([]) == 0.0
