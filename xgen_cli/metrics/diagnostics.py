"""Diagnostics reported beside the paper's metrics (paper.md xgen decision, "Metrics").

cld3 labels junk confidently ("dict dict dict" came out as Japanese in a trial), so LID and ASCII
only mean something next to how many predictions are distinct and how many are empty.
"""


def distinct_share(predictions: list[str]) -> float:
    """% of predictions that are distinct strings (100 * #unique / #predictions); 0.0 for none."""
    if not predictions:
        return 0.0
    return 100.0 * len(set(predictions)) / len(predictions)


def empty_share(predictions: list[str]) -> float:
    """% of predictions that are empty or whitespace only; 0.0 for none."""
    if not predictions:
        return 0.0
    return 100.0 * sum(not p.strip() for p in predictions) / len(predictions)
