"""Plain-text, paper-style tables of run summaries, for a terminal.

One block per metric, rows = runs (PROMPT, MODEL, LEAD-64, ...), columns = languages, like the
paper's Table 8. The alternative, one row per run with a group of six metric columns per language,
is 5 x 6 x 7 = 210 characters wide for five languages; per-metric blocks stay under ~120 and put
the numbers one compares (the same metric across runs) in one column. Blocks wider than
MAX_WIDTH wrap their language columns. The first line always names the selection rule, because
the same run reads very differently under "target" (the paper) and "source" (honest zero-shot).

    selection: target = best checkpoint per target language, on its own SP-ROUGE (paper)
    values x100; LID_XX = confidence in the target language; - = not evaluated

    SP-RG       EN    FR    RU
    LEAD-64   20.7  18.9  16.5
    PROMPT    43.4  37.4  29.2
"""

from __future__ import annotations

import os
from collections import Counter

from xgen_cli.errors import XgenError
from xgen_cli.runs.run_dir import RunDir
from xgen_cli.runs.summary import (
    MARK_DEGENERATE,
    MAX_EMPTY,
    METRIC_KEYS,
    MIN_DISTINCT,
    SELECTIONS,
    degenerate_footnote,
    is_degenerate,
    is_missing,
    sp_rouge_note,
)

MAX_WIDTH = 120

# How the paper names a method and its remedies (Table 11): PROMPT+FP, MODEL+MIX-UNSUP, ...
_METHOD_LABELS = {"fp": "PROMPT+FP", "fp_en": "PROMPT+FP-EN"}
_REMEDY_LABELS = {("mixing", "unsup"): "MIX-UNSUP", ("mixing", "unsup_all"): "MIX-UNSUP-ALL",
                  ("intermediate", "lm"): "IT-LM", ("intermediate", "gigaword"): "IT-GIGAWORD"}


def method_label(identity: dict) -> str:
    """The paper's name of a run's method with its remedies, from run.json's identity."""
    method = identity.get("method") or "?"
    parts = [_METHOD_LABELS.get(method, method.upper())]
    parts += [label for (group, choice), label in _REMEDY_LABELS.items() if identity.get(group) == choice]
    return "+".join(parts)


# Printed with every table: the same run reads very differently under each rule.
SELECTION_RULES = {
    "target": "target = best checkpoint per target language, on its own SP-ROUGE (paper)",
    "source": "source = one checkpoint for all languages, best on {source} SP-ROUGE (honest zero-shot)",
    "last": "last = the final evaluated checkpoint",
}
# Column labels as the paper prints them; `step` shows which checkpoint a selection picked.
_LABELS = {"sp_rouge": "SP-RG", "lid_target": "LID_XX", "lid_en": "LID_EN", "ascii": "ASCII",
           "distinct": "DISTINCT", "empty": "EMPTY", "loss": "LOSS", "step": "STEP"}


def _cell(entry: dict, metric: str, mark: str) -> str:
    value = entry.get(metric)
    if is_missing(value):
        return "-"
    if metric == "step":
        return f"{int(value)}{mark}"
    if metric == "loss":
        return f"{value:.3f}{mark}"
    return f"{value:.1f}{mark}"


def _default_langs(summaries: list[dict], selection: str) -> list[str]:
    langs = {lang for s in summaries for lang in s.get("select", {}).get(selection, {})}
    # Source language first (the paper's column order starts with EN), the rest alphabetical.
    source = Counter(s.get("source_lang", "en") for s in summaries).most_common(1)
    first = [source[0][0]] if source and source[0][0] in langs else []
    return first + sorted(langs - set(first))


def _notes(name: str, summary: dict | None, selection: str) -> list[str]:
    if summary is None:
        return [f"{name}: no summary.json (run unfinished or failed)"]
    out = []
    for note in summary.get("notes", []):
        rule, sep, rest = note.partition(": ")
        if sep and rule in SELECTIONS:
            if rule == selection:
                out.append(f"{name}: {rest}")
        else:
            out.append(f"{name}: {note}")
    return out


def format_language_table(
    summary_by_name: dict[str, dict | None],
    selection: str = "target",
    langs: list[str] | None = None,
    metrics: tuple[str, ...] = METRIC_KEYS,
    min_distinct: float = MIN_DISTINCT,
    max_empty: float = MAX_EMPTY,
) -> str:
    """Tables (one per metric) of `selection`'s values; a None summary prints as dashes plus a note.
    Every value of a degenerate language of a run (summary.is_degenerate) carries its mark, as in
    the paper-style tables, explained under the blocks."""
    if selection not in SELECTIONS:
        raise XgenError(f"unknown selection {selection!r}: use one of {', '.join(SELECTIONS)}")
    unknown = [m for m in metrics if m not in _LABELS]
    if unknown:
        raise XgenError(f"unknown metric(s) {', '.join(unknown)}: use any of {', '.join(_LABELS)}")
    summaries = {name: s or {} for name, s in summary_by_name.items()}
    langs = list(langs) if langs is not None else _default_langs(list(summaries.values()), selection)
    source = Counter(s.get("source_lang", "en") for s in summaries.values()).most_common(1)

    lines = [
        "selection: " + SELECTION_RULES[selection].format(source=source[0][0] if source else "en"),
        "values x100"
        + ("; LID_XX = confidence in the target language" if "lid_target" in metrics else "")
        + "; - = not evaluated",
        sp_rouge_note(s.get("identity", {}).get("model") for s in summaries.values()),
    ]
    name_w = max([len(name) for name in summaries] + [len(_LABELS[m]) for m in metrics] + [4])
    entries = {name: [summary.get("select", {}).get(selection, {}).get(lang, {}) for lang in langs]
               for name, summary in summaries.items()}
    degenerate = {name: [is_degenerate(e.get("distinct"), e.get("empty"), min_distinct, max_empty) for e in row]
                  for name, row in entries.items()}
    marked = any(any(row) for row in degenerate.values())
    unmarked = " " if marked else ""  # in the mark's place, so the digits stay aligned
    for metric in metrics:
        cells = {name: [_cell(e, metric, MARK_DEGENERATE if bad else unmarked)
                        for e, bad in zip(row, degenerate[name], strict=True)]
                 for name, row in entries.items()}
        widest = max([len(lang) for lang in langs] + [len(c) for row in cells.values() for c in row], default=0)
        col_w = max(widest, 5 + len(unmarked)) + 1
        per_chunk = max(1, (MAX_WIDTH - name_w) // col_w)
        for start in range(0, max(len(langs), 1), per_chunk):
            end = start + per_chunk
            lines.append("")
            header = "".join(lang.upper().rjust(col_w) for lang in langs[start:end])
            lines.append(_LABELS[metric].ljust(name_w) + header)
            for name, row in cells.items():
                lines.append(name.ljust(name_w) + "".join(c.rjust(col_w) for c in row[start:end]))
    if marked:
        lines += ["", degenerate_footnote(min_distinct, max_empty)]
    notes = [note for name, s in summary_by_name.items() for note in _notes(name, s, selection)]
    if notes:
        lines.append("")
        lines.extend(f"note: {note}" for note in notes)
    return "\n".join(lines) + "\n"


def load_run(path: str | os.PathLike) -> tuple[dict | None, list[dict], dict]:
    """(summary.json or None if unfinished, metrics rows, run.json) of one run directory."""
    run = RunDir(path)
    if not run.run_json.exists():
        raise XgenError(
            f"{run.path} is not an xgen run directory (no run.json): point at a folder written by xgen"
        )
    return run.read_summary(), run.read_metrics(), run.read_run_json()
