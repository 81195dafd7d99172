"""The tables `xgen table` draws: the paper's (8, 10, 11, the baselines of Figure 4) and a generic
pivot, each a choice of rows, columns and reference rows over the tidy frame (paper.md, "The
paper's tables and figures").

- table8: SP-RG per language (the 18 of WikiLingua-0 in the paper's order, as many as evaluated),
  rows size x {PROMPT, MODEL, delta P-M}; PROMPT at the paper's default length L = 100.
- table10: rows size x method x prompt length L; columns EN (SP-RG, LID_EN) and, per target
  language, SP-RG, LID_EN, LID_XX; the paper's languages (EN FR RU VI TH) where evaluated.
- table11: rows size x method x remedy (none, MIX-UNSUP, MIX-UNSUP-ALL, IT-GIGAWORD, IT-LM, FP-EN,
  FP) x L; the columns of table10.
- baselines: SP-RG per language of LEAD-64, PROMPT, MODEL, TRANS-TRAIN, TRANS-TEST, SUP and
  SUP-ALL (Figure 4 as a table); a SUP or TRANS-TRAIN cell comes from the run trained on that
  cell's language.
- pivot: any frame columns as rows and columns, any metrics.

Significance (significance.py) compares a row with its reference row of the same size: a remedy
with its plain method (table11), PROMPT with MODEL (tables 8, 10, 11), any row with
`against=<method>` in a pivot. Only SP-RG cells are tested: per-example scores exist for it alone.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import pandas as pd

from xgen_cli.errors import XgenError
from xgen_cli.runs.frame import VALUE_COLUMNS, Runs
from xgen_cli.runs.grid import (
    MARK_SIGNIFICANT,
    METHODS,
    Cell,
    Table,
    aggregate,
    display,
    flag_degenerate,
    mark,
    sort_key,
)
from xgen_cli.runs.significance import PairedTest, Untestable, describe
from xgen_cli.runs.summary import MAX_EMPTY, MIN_DISTINCT, SELECTIONS, sp_rouge_note
from xgen_cli.runs.table import SELECTION_RULES

TABLES = ("table8", "table10", "table11", "baselines", "pivot")
PAPER_LANGS = ("en", "fr", "ru", "vi", "th")  # the columns of the paper's Tables 10 and 11
PROMPT_LENGTH = 100  # the paper's default L (paper.md, Methods); tables 8 and baselines use it
DELTA = "Δ P-M"


@dataclass
class Options:
    """What the user chose (conf/table.yaml), as plain values."""

    selection: str = "target"
    langs: list[str] | None = None
    by: list[str] = field(default_factory=list)
    rows: list[str] = field(default_factory=lambda: ["size", "method"])
    cols: list[str] = field(default_factory=lambda: ["lang"])
    metrics: list[str] = field(default_factory=lambda: ["sp_rouge"])
    against: str | None = None
    min_distinct: float = MIN_DISTINCT
    max_empty: float = MAX_EMPTY


def build(kind: str, runs: Runs, options: Options, test: PairedTest | None = None) -> Table:
    """The table `kind` (one of TABLES) of `runs`, marked, with its preamble, footnotes and the
    runs it leaves out listed beneath it."""
    if kind not in TABLES:
        raise XgenError(f"unknown table {kind!r}: use one of {', '.join(TABLES)}")
    if options.selection not in SELECTIONS:
        raise XgenError(f"unknown selection {options.selection!r}: use one of {', '.join(SELECTIONS)}")
    frame = runs.frame[runs.frame["selection"] == options.selection]
    frame = flag_degenerate(frame, options.min_distinct, options.max_empty)
    kept = rows_of(kind, frame)
    langs, hidden = _langs(kind, kept, options.langs)
    kept = kept[kept["lang"].isin(langs)]
    rows, cols, metrics = _shape(kind, options)

    row_values, columns, cells = aggregate(kept, rows, cols, metrics, runs.identity_keys)
    if kind in ("table10", "table11"):  # EN has no LID_XX column: it would repeat LID_EN
        keep = [j for j, c in enumerate(columns) if not (c.lang == runs.source_lang and c.metric == "lid_target")]
        columns, cells = [columns[j] for j in keep], _reindex_columns(cells, keep)
    table = Table(name=kind, row_keys=rows, rows=row_values, columns=columns, cells=cells)
    if kind == "table8":
        _add_deltas(table)

    table.preamble = [
        f"{kind}: " + _TITLES[kind].format(metrics=", ".join(metrics), rows=", ".join(rows), cols=", ".join(cols)),
        "selection: " + SELECTION_RULES[options.selection].format(source=runs.source_lang.upper()),
        "values x100; a cell is the mean over seeds ± their sample std; - = not evaluated",
        sp_rouge_note(kept["size"].unique() if "size" in kept else []),
    ]
    if test is not None:
        _test_significance(table, kind, options, test)
    mark(table, source_lang=runs.source_lang, min_distinct=options.min_distinct, max_empty=options.max_empty)
    if hidden:
        table.footnotes.append(f"also evaluated, not shown: {', '.join(lang.upper() for lang in hidden)} "
                               f"(langs=[{','.join(langs + hidden)}] shows them)")
    if not table.rows:
        table.footnotes.append(f"no finished run with a {options.selection!r} selection is a row of {kind}")
    if kind == "baselines":
        absent = [m for m in METHODS if m not in {row[0] for row in table.rows}]
        if absent:
            table.footnotes.append(f"no runs of {', '.join(absent)}")
    table.below = _below(kind, runs, frame, kept, options.selection)
    return table


_TITLES = {
    "table8": "best SP-RG per language, PROMPT (L=100) vs MODEL and their difference (paper Table 8)",
    "table10": "PROMPT and MODEL per size and prompt length (paper Table 10)",
    "table11": "remedies for catastrophic forgetting per size (paper Table 11)",
    "baselines": "baselines and upper bounds, SP-RG (paper Figure 4 as a table)",
    "pivot": "{metrics} by {rows} x {cols}",
}


def rows_of(kind: str, frame: pd.DataFrame) -> pd.DataFrame:
    """The frame rows a table is made of (the rest is listed under it)."""
    if kind == "pivot" or frame.empty:
        return frame
    trained = frame["baseline"].isna()
    english = ~frame["method"].str.contains(r"\+SUP", regex=True)
    plain = trained & english & frame["base"].isin(["PROMPT", "MODEL"])
    default_length = (frame["base"] != "PROMPT") | (frame["prompt_length"] == PROMPT_LENGTH)
    if kind == "table8":
        return frame[plain & (frame["remedy"] == "") & default_length]
    if kind == "table10":
        return frame[plain & (frame["remedy"] == "")]
    if kind == "table11":
        return frame[plain]
    # baselines: the eval baselines, plain PROMPT / MODEL, and SUP / TRANS-TRAIN runs on their own language only
    own = (frame["method"].str.endswith("+SUP") | (frame["method"] == "TRANS-TRAIN")) & (frame["lang"] == frame.get("train_lang"))
    sup_all = frame["method"].str.endswith("+SUP-ALL")
    return frame[~trained | (plain & (frame["remedy"] == "") & default_length) | own | sup_all]


def _langs(kind: str, frame: pd.DataFrame, chosen: list[str] | None) -> tuple[list[str], list[str]]:
    """(languages shown, languages evaluated but not shown), in the paper's order."""
    present = sorted(set(frame["lang"]), key=lambda lang: sort_key("lang", lang))
    if chosen:
        return list(chosen), []
    if kind in ("table10", "table11"):
        shown = [lang for lang in PAPER_LANGS if lang in present] or present
        return shown, [lang for lang in present if lang not in shown]
    return present, []


def _shape(kind: str, options: Options) -> tuple[list[str], list[str], list[str]]:
    """(row keys, column keys, metrics)."""
    by = [key for key in options.by if key]
    if kind == "table8":
        return ["size", "method", *by], ["lang"], ["sp_rouge"]
    if kind == "table10":
        return ["size", "method", "prompt_length", *by], ["lang"], ["sp_rouge", "lid_en", "lid_target"]
    if kind == "table11":
        return ["size", "base", "remedy", "prompt_length", *by], ["lang"], ["sp_rouge", "lid_en", "lid_target"]
    if kind == "baselines":
        return ["method", "size", *by], ["lang"], ["sp_rouge"]
    if not options.rows or not options.metrics:
        raise XgenError("table=pivot needs rows and a metric, e.g. rows=[size,method] cols=[lang] metric=sp_rouge")
    unknown = [m for m in options.metrics if m not in VALUE_COLUMNS]
    if unknown:
        raise XgenError(f"unknown metric(s) {', '.join(unknown)}: use any of {', '.join(VALUE_COLUMNS)}")
    return [*options.rows, *by], list(options.cols), list(options.metrics)


def _reindex_columns(cells: dict, keep: list[int]) -> dict:
    new = {old: j for j, old in enumerate(keep)}
    return {(i, new[j]): cell for (i, j), cell in cells.items() if j in new}


def _add_deltas(table: Table) -> None:
    """Table 8's third row per size (and per `by` values): PROMPT minus MODEL, where both exist."""
    rows, cells = [], {}

    def append(row, row_cells):
        rows.append(row)
        cells.update({(len(rows) - 1, j): cell for j, cell in row_cells.items()})

    for block in table.blocks():
        groups: dict[tuple, dict[str, int]] = {}
        for i in block:
            groups.setdefault(table.rows[i][2:], {})[table.rows[i][1]] = i
        for rest, by_method in groups.items():
            for i in by_method.values():
                append(table.rows[i], {j: c for (r, j), c in table.cells.items() if r == i})
            if "PROMPT" not in by_method or "MODEL" not in by_method:
                continue
            p, m = by_method["PROMPT"], by_method["MODEL"]
            deltas = {}
            for j in range(len(table.columns)):
                pc, mc = table.cells.get((p, j)), table.cells.get((m, j))
                if pc and mc and pc.mean is not None and mc.mean is not None:
                    deltas[j] = Cell(values=[pc.mean - mc.mean], seeded=False, delta=True,
                                     degenerate=pc.degenerate or mc.degenerate)
            append((table.rows[p][0], DELTA, *rest), deltas)
    table.rows, table.cells = rows, cells


def _reference(kind: str, table: Table, options: Options) -> dict[int, int]:
    """{row index: index of the row it is compared with}."""
    keys = table.row_keys
    index = {row: i for i, row in enumerate(table.rows)}
    refs = {}
    for i, row in enumerate(table.rows):
        values = dict(zip(keys, row, strict=True))
        if kind == "table8" and values["method"] == DELTA:
            target = {"method": "PROMPT"}, {"method": "MODEL"}
            a, b = (index.get(tuple({**values, **t}[k] for k in keys)) for t in target)
            if a is not None and b is not None:
                refs[i] = (a, b)
            continue
        change = None
        if kind == "table10" and values["method"] == "PROMPT":
            change = {"method": "MODEL", "prompt_length": None}
        elif kind == "table11":
            if values["remedy"]:
                change = {"remedy": ""}
            elif values["base"] == "PROMPT":
                change = {"base": "MODEL", "prompt_length": None}
        elif kind == "pivot" and options.against:
            if "method" not in keys:
                raise XgenError("against=... compares rows by method: put method in rows")
            if values["method"] != options.against:
                change = {"method": options.against}
        if change is not None:
            j = index.get(tuple({**values, **change}[k] for k in keys))
            if j is not None:
                refs[i] = (i, j)
    return refs


def _test_significance(table: Table, kind: str, options: Options, test: PairedTest) -> None:
    pairs = _reference(kind, table, options)
    tested, skipped = 0, Counter()
    for i, (a, b) in pairs.items():
        for j, column in enumerate(table.columns):
            if column.metric != "sp_rouge" or (i, j) not in table.cells:
                continue
            ca, cb = table.cells.get((a, j)), table.cells.get((b, j))
            if not ca or not cb or not ca.values or not cb.values:
                continue
            try:
                result = test.compare(ca.runs, cb.runs, column.lang, ca.values, cb.values)
            except Untestable as exc:
                skipped[str(exc)] += 1
                continue
            tested += 1
            if result.significant:
                table.cells[(i, j)].marks.append(MARK_SIGNIFICANT)
    if tested:
        what = _REFERENCE_WORDS[kind].format(against=options.against)
        table.footnotes.append(f"{MARK_SIGNIFICANT}: {describe(test.resamples, test.seed)}; {what}")
    if skipped:
        reasons = "; ".join(f"{reason} ({count})" for reason, count in skipped.most_common(3))
        table.footnotes.append(f"significance not tested for {sum(skipped.values())} SP-RG cell(s): {reasons}")


_REFERENCE_WORDS = {
    "table8": f"on {DELTA}: PROMPT against MODEL",
    "table10": "reference: MODEL of the same size",
    "table11": "reference: the same method and L without remedy; PROMPT's: MODEL of the same size",
    "pivot": "reference: the row of method {against} with the same other keys",
}


def _below(kind: str, runs: Runs, frame: pd.DataFrame, kept: pd.DataFrame, selection: str) -> list[tuple[str, list[str]]]:
    """Runs not in the table, as (heading, items): unfinished ones with their reason, finished ones
    without this selection, finished ones the table has no row for."""
    below = []
    if runs.unfinished:
        below.append((f"not finished, not in the table ({len(runs.unfinished)} run(s)):",
                      [u.line() for u in runs.unfinished]))
    no_selection = sorted(set(runs.frame["run"]) - set(frame["run"]))
    if no_selection:
        below.append((f"finished without a {selection!r} selection, not in the table ({len(no_selection)} run(s); "
                      "their summary.json notes say why):", no_selection))
    left = frame[~frame["run"].isin(set(kept["run"]))].drop_duplicates("run")
    if len(left):
        counts = Counter(_describe_run(r) for r in left.to_dict("records"))
        named = ", ".join(f"{name} x{n}" for name, n in sorted(counts.items()))
        below.append((f"finished runs that are not rows of {kind} ({len(left)}): {named}", []))
    return below


def _describe_run(record: dict) -> str:
    name = record["method"]
    if record.get("base") == "PROMPT" and record.get("prompt_length") not in (None, PROMPT_LENGTH):
        name += f" L={display(record['prompt_length'])}"
    return f"{name} ({display(record.get('size'), 'size')})" if record.get("size") else name
