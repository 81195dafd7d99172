"""ASCII share, whitespace excluded, empty predictions left out (paper.md, "Metrics")."""

import pytest

from xgen_cli.metrics.ascii import ascii_percent, ascii_share


def test_pure_scripts():
    assert ascii_share(["Cut the paper."]) == 100.0
    assert ascii_share(["ตัดกระดาษ"]) == 0.0
    assert ascii_share(["Разрежьте бумагу"]) == 0.0


def test_whitespace_is_excluded():
    # "ab" + "вг": 2 of 4 non-whitespace characters; the spaces and newline would tip it to ASCII.
    assert ascii_percent("a b\n вг  ") == 50.0
    assert ascii_percent("ab\u3000вг") == 50.0  # ideographic space is whitespace too


def test_mean_over_predictions():
    assert ascii_share(["abc", "жжж", "a ж ж ж"]) == pytest.approx((100 + 0 + 25) / 3)


def test_empty_predictions_are_left_out():
    assert ascii_percent("  \n") is None
    assert ascii_share(["abc", "", "  ", "жж"]) == 50.0
    assert ascii_share(["", " "]) == 0.0
    assert ascii_share([]) == 0.0
