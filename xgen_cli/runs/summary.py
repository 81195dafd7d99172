"""summary.json: which checkpoint each selection rule picks, and its metrics.

The schema is user interface (`xgen table`, sweeps and users' scripts read it); add keys, never
rename them:

    {
      "status": "done",
      "select": {
        "target": {"<lang>": ENTRY, ...},   # per language, the step best on THAT language's
                                            # SP-ROUGE: the paper's rule (paper.md, Methods)
        "source": {"<lang>": ENTRY, ...},   # ONE step for every language: the step best on the
                                            # source language's SP-ROUGE (honest zero-shot; an
                                            # xgen decision); {} when the source wasn't evaluated
        "last":   {"<lang>": ENTRY, ...}    # ONE step for every language: the largest step
      },
      "identity": {...},                    # model, method, prompt_length, seed, ... as given
      "steps": [500, 1000, ...],            # every evaluated step, ascending
      "langs": ["en", "ru", ...],           # every evaluated language, sorted
      "source_lang": "en", "stage": "main", "split": "validation",   # what the rules were fed
      "notes": ["..."]                      # why a selection lacks a language; [] when complete
    }
    ENTRY = {"step": 500, "n": 250, "sp_rouge": 23.1, "lid_target": 84.4, "lid_en": 9.1,
             "ascii": 12.3, "distinct": 97.2, "empty": 0.0, "loss": 2.31}   # loss where logged

Metric values are x100 floats, as in metrics.jsonl. Ties on SP-ROUGE go to the earliest step (the
cheaper checkpoint); a NaN SP-ROUGE never wins. When a (step, lang) was evaluated twice in the
same stage and split (a resumed run re-evaluating a step), the row logged last counts.
"""

from __future__ import annotations

import math

# The per-language metrics of a metrics row and a summary entry, in the paper's column order plus
# xgen's two diagnostics. Tables, plots and validators import this one tuple.
METRIC_KEYS = ("sp_rouge", "lid_target", "lid_en", "ascii", "distinct", "empty")

SELECTIONS = ("target", "source", "last")

# Degenerate predictions (README, "Tables and figures"): the one rule every table form marks by.
MARK_DEGENERATE = "§"
MIN_DISTINCT = 50.0  # % distinct predictions below which a language's predictions are degenerate
MAX_EMPTY = 20.0  # % empty predictions above which they are


def is_missing(value) -> bool:
    """A metric not logged: None, or NaN where a frame filled the gap."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def is_degenerate(distinct, empty, min_distinct: float = MIN_DISTINCT, max_empty: float = MAX_EMPTY) -> bool:
    """Mostly repeats (distinct < min_distinct %) or often empty (empty > max_empty %); a metric not
    logged decides nothing. cld3 labels such junk confidently, so its LID and ASCII mean little."""
    return (not is_missing(distinct) and distinct < min_distinct) or (not is_missing(empty) and empty > max_empty)


def degenerate_footnote(min_distinct: float = MIN_DISTINCT, max_empty: float = MAX_EMPTY) -> str:
    return (f"{MARK_DEGENERATE}: a run in this cell made degenerate predictions (distinct < {min_distinct:g}% or "
            f"empty > {max_empty:g}%): cld3 gives confident labels to junk, so LID and ASCII mean little here")


def _entry(row: dict) -> dict:
    entry = {"step": row["step"], "n": row.get("n")}
    entry.update({key: row.get(key) for key in METRIC_KEYS})
    if row.get("loss") is not None:
        entry["loss"] = row["loss"]
    return entry


def _rank(row: dict) -> tuple:
    # Sort key: best SP-ROUGE first, then the earliest step; NaN/None last.
    score = row.get("sp_rouge")
    if score is None or (isinstance(score, float) and math.isnan(score)):
        return (1, 0.0, row["step"])
    return (0, -score, row["step"])


def _at_step(by_lang: dict[str, dict[int, dict]], step: int, rule: str, notes: list[str]) -> dict:
    chosen = {}
    for lang in sorted(by_lang):
        if step in by_lang[lang]:
            chosen[lang] = _entry(by_lang[lang][step])
        else:
            notes.append(f"{rule}: {lang} was not evaluated at step {step}, so it is left out")
    return chosen


def build_summary(
    rows: list[dict],
    identity: dict,
    source_lang: str = "en",
    stage: str = "main",
    split: str = "validation",
) -> dict:
    """The summary.json dict (schema in the module docstring) from a run's metrics rows."""
    by_lang: dict[str, dict[int, dict]] = {}
    for row in rows:
        if row.get("stage") == stage and row.get("split") == split:
            by_lang.setdefault(row["lang"], {})[row["step"]] = row  # later rows replace earlier ones
    steps = sorted({step for per_step in by_lang.values() for step in per_step})
    notes: list[str] = []
    select: dict[str, dict] = {"target": {}, "source": {}, "last": {}}

    if not steps:
        notes.append(f"no metrics rows with stage={stage} and split={split}: nothing to select from")
    else:
        select["target"] = {
            lang: _entry(min(per_step.values(), key=_rank)) for lang, per_step in sorted(by_lang.items())
        }
        if source_lang in by_lang:
            best_step = min(by_lang[source_lang].values(), key=_rank)["step"]
            select["source"] = _at_step(by_lang, best_step, "source", notes)
        else:
            notes.append(
                f"source: the source language {source_lang} was not evaluated (stage={stage}, "
                f"split={split}), so no zero-shot selection; add {source_lang} to the evaluation languages"
            )
        select["last"] = _at_step(by_lang, steps[-1], "last", notes)

    return {
        "status": "done",
        "select": select,
        "identity": identity,
        "steps": steps,
        "langs": sorted(by_lang),
        "source_lang": source_lang,
        "stage": stage,
        "split": split,
        "notes": notes,
    }


def vocabulary(model_choice: str | None) -> str:
    """The SentencePiece vocabulary a `model=` choice tokenizes with: mT0 shares mT5's, umT5 has its
    own, `tiny` is built on the run's corpus."""
    choice = str(model_choice or "")
    if choice.startswith("umt5"):
        return "umT5"
    if choice == "tiny":
        return "tiny"
    return "mT5"


def sp_rouge_note(model_choices) -> str:
    """The table line saying whose pieces SP-ROUGE counted (each run's own backbone's spiece.model)."""
    vocabularies = sorted({vocabulary(c) for c in model_choices if c})
    if not vocabularies:
        return "SP-RG counts the pieces of each run's own backbone's SentencePiece model"
    warn = "; scores of different vocabularies are not comparable" if len(vocabularies) > 1 else ""
    return f"SP-RG counts the pieces of each run's own backbone's SentencePiece model ({', '.join(vocabularies)}){warn}"
