"""ASCII: the share of ASCII characters in predictions (paper.md, "Metrics").

A proxy for unwanted English in non-Latin scripts: a Thai or Russian summary full of ASCII has
slipped into English (or into copying Latin-script names and numbers, hence LEAD-64 beside it).
"""


def ascii_percent(prediction: str) -> float | None:
    """% of the non-whitespace characters that are ASCII; None when there are none."""
    # paper.md xgen decision: whitespace is excluded, else spacing would count as English.
    chars = [c for c in prediction if not c.isspace()]
    if not chars:
        return None
    return 100.0 * sum(c.isascii() for c in chars) / len(chars)


def ascii_share(predictions: list[str]) -> float:
    """Mean over predictions of `ascii_percent`.

    xgen decision: empty predictions (no non-whitespace character) are left out of the mean, since
    they have no share to speak of and are counted by the `empty` diagnostic instead; if all are
    empty, or there are none, the result is 0.0.
    """
    percents = [p for p in map(ascii_percent, predictions) if p is not None]
    return sum(percents) / len(percents) if percents else 0.0
