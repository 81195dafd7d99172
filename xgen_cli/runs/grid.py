"""A results table before it is rendered: rows x columns of cells, each the mean over seeds.

`aggregate` groups the tidy frame (frame.py) into cells and enforces what makes a mean over seeds
honest: runs in one cell may differ in their seed only (else an error names the keys that differ),
and one seed counts once. `mark` then adds what a reader must see beside a number: fewer seeds
than the other cells, degenerate predictions, the best value of a column.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pandas as pd

from xgen_cli.data.example import WIKILINGUA_LANGS  # the paper's language order (a stdlib-only leaf)
from xgen_cli.errors import XgenError
from xgen_cli.runs.frame import LOCATION_KEYS
from xgen_cli.runs.summary import MARK_DEGENERATE, degenerate_footnote, is_degenerate, is_missing

METRIC_LABELS = {"sp_rouge": "SP-RG", "lid_target": "LID_XX", "lid_en": "LID_EN", "ascii": "ASCII",
                 "distinct": "DISTINCT", "empty": "EMPTY", "loss": "LOSS", "step": "STEP", "n": "N"}
SIZES = ("tiny", "small", "base", "large", "xl", "xxl")  # conf/model, smallest first
# Row order of the paper's tables (and table=baselines' rows); names not listed follow alphabetically.
METHODS = ("LEAD-64", "PROMPT", "MODEL", "TRANS-TRAIN", "TRANS-TEST", "MODEL+SUP", "MODEL+SUP-ALL")
REMEDIES = ("", "MIX-UNSUP", "MIX-UNSUP-ALL", "IT-GIGAWORD", "IT-LM", "FP-EN", "FP")  # Table 11
# Which way is better, for bold; None: no best (ASCII is wanted high for Latin scripts, low else).
HIGHER_IS_BETTER = {"sp_rouge": True, "lid_target": True, "lid_en": False, "distinct": True, "empty": False,
                    "loss": False, "ascii": None, "step": None, "n": None}

MARK_SIGNIFICANT = "†"


@dataclass(frozen=True)
class Column:
    key: tuple  # values of the table's column keys (usually one language)
    metric: str
    keys: tuple[str, ...] = ("lang",)  # the names of the column keys
    lang: str | None = None  # the column's language, when `lang` is a column key

    @property
    def group(self) -> str:
        return " ".join(display(v, k) for k, v in zip(self.keys, self.key, strict=True))

    @property
    def label(self) -> str:
        return METRIC_LABELS.get(self.metric, self.metric)


@dataclass
class Cell:
    values: list[float]  # one per run (seed) with a value
    runs: list[tuple[str, int | None]] = field(default_factory=list)  # (run folder, selected step)
    seeded: bool = True  # False for deterministic baselines (LEAD-64): one run is all there is
    degenerate: bool = False
    marks: list[str] = field(default_factory=list)
    bold: bool = False
    delta: bool = False  # a difference of two rows (Table 8's P-M), printed with a sign

    @property
    def seeds(self) -> int:
        return len(self.values)

    @property
    def mean(self) -> float | None:
        return sum(self.values) / len(self.values) if self.values else None

    @property
    def std(self) -> float | None:
        """Sample standard deviation over seeds (n-1): three seeds at m-s, m, m+s give exactly s."""
        if len(self.values) < 2:
            return None
        mean = self.mean
        return math.sqrt(sum((v - mean) ** 2 for v in self.values) / (len(self.values) - 1))


@dataclass
class Table:
    name: str
    row_keys: list[str]
    rows: list[tuple]
    columns: list[Column]
    cells: dict[tuple[int, int], Cell]
    preamble: list[str] = field(default_factory=list)  # the selection rule first
    footnotes: list[str] = field(default_factory=list)
    below: list[tuple[str, list[str]]] = field(default_factory=list)  # (heading, items): runs not in it

    def blocks(self) -> list[list[int]]:
        """Row indices grouped by the first row key when it is `size` (bold and rules go per size)."""
        if not self.rows or self.row_keys[:1] != ["size"]:
            return [list(range(len(self.rows)))]
        out: dict = {}
        for i, row in enumerate(self.rows):
            out.setdefault(row[0], []).append(i)
        return list(out.values())


def display(value, key: str | None = None) -> str:
    """A key's value as tables print it: sizes and languages upper case (XXL, RU), 100.0 as 100."""
    if is_missing(value):
        return "-"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if key in ("size", "lang", "model", "train_lang") and isinstance(value, str):
        return value.upper()
    return str(value)


def sort_key(key: str, value):
    """Paper order for sizes, methods, remedies and languages; numbers by value; missing last."""
    if is_missing(value):
        return (3, 0, "")
    if key == "method" and isinstance(value, str):  # PROMPT+FP: after PROMPT, remedies in Table 11's order
        base, _, remedy = value.partition("+")
        return (0 if base in METHODS else 2, METHODS.index(base) if base in METHODS else 0,
                f"{REMEDIES.index(remedy) if remedy in REMEDIES else len(REMEDIES):02d}{value}")
    order = {"size": SIZES, "base": METHODS, "method": METHODS, "remedy": REMEDIES, "lang": WIKILINGUA_LANGS}.get(key)
    if order is not None and value in order:
        return (0, order.index(value), "")
    if isinstance(value, int | float):
        return (1, value, "")
    return (2, 0, str(value))


def flag_degenerate(frame: pd.DataFrame, min_distinct: float, max_empty: float) -> pd.DataFrame:
    """The frame with a `degenerate` column: summary.is_degenerate of each selected checkpoint's
    predictions of that language."""
    bad = [is_degenerate(d, e, min_distinct, max_empty) for d, e in zip(frame["distinct"], frame["empty"], strict=True)]
    return frame.assign(degenerate=pd.Series(bad, index=frame.index, dtype=bool))


def aggregate(frame: pd.DataFrame, rows: list[str], cols: list[str], metrics: list[str],
              identity_keys: tuple[str, ...], by_hint: str = "by") -> tuple[list[tuple], list[Column], dict]:
    """(rows, columns, cells keyed by (row index, column index)); raises when one cell would mix
    configs or count a seed twice."""
    missing = [key for key in rows + cols if key not in frame.columns]
    if missing:
        known = sorted(c for c in frame.columns if c != "run")
        raise XgenError(f"unknown key(s) {', '.join(missing)}: use any of {', '.join(known)}")
    compare = [k for k in (*identity_keys, "tuning") if k in frame.columns and k not in
               ("seed", "model", *LOCATION_KEYS, *rows, *cols)]
    groups: dict[tuple, list[dict]] = {}
    for record in frame.to_dict("records"):
        key = tuple(record[k] for k in rows) + tuple(record[k] for k in cols)
        groups.setdefault(key, []).append(record)
    for key, records in groups.items():
        _check_one_config(records, compare, rows, cols, key[: len(rows)], key[len(rows):], by_hint)

    ordered_rows = sorted({key[: len(rows)] for key in groups},
                          key=lambda row: [sort_key(k, v) for k, v in zip(rows, row, strict=True)])
    ordered_cols = sorted({key[len(rows):] for key in groups},
                          key=lambda col: [sort_key(k, v) for k, v in zip(cols, col, strict=True)])
    lang_at = cols.index("lang") if "lang" in cols else None
    columns = [Column(col, metric, tuple(cols), None if lang_at is None else col[lang_at])
               for col in ordered_cols for metric in metrics]
    row_index = {row: i for i, row in enumerate(ordered_rows)}
    col_index = {(col.key, col.metric): j for j, col in enumerate(columns)}
    cells: dict[tuple[int, int], Cell] = {}
    for key, records in groups.items():
        row, col = key[: len(rows)], key[len(rows):]
        for metric in metrics:
            present = [r for r in records if not is_missing(r.get(metric))]
            cells[(row_index[row], col_index[(col, metric)])] = Cell(
                values=[float(r[metric]) for r in present],
                runs=[(r["run"], None if is_missing(r.get("step")) else int(r["step"])) for r in present],
                seeded=any(not is_missing(r.get("seed")) for r in records),
                degenerate=any(bool(r.get("degenerate")) for r in records),
            )
    return ordered_rows, columns, cells


def _where(rows, cols, row, col) -> str:
    return ", ".join(f"{k}={display(v, k)}" for k, v in zip(rows + cols, row + col, strict=True))


def _check_one_config(records, compare, rows, cols, row, col, by_hint) -> None:
    differing = {}
    for key in compare:
        values = {r.get(key) for r in records if not is_missing(r.get(key))}
        if len(values) > 1 or (values and any(is_missing(r.get(key)) for r in records)):
            differing[key] = sorted(map(display, values | ({None} if any(is_missing(r.get(key)) for r in records) else set())))
    if differing:
        named = "; ".join(f"{k} ({', '.join(v)})" for k, v in differing.items())
        raise XgenError(
            f"runs that differ in more than their seed fall into one cell ({_where(rows, cols, row, col)}): "
            f"{named}; group by them ({by_hint}=[{','.join(differing)}]) or pass runs that agree"
        )
    by_run: dict[str, int] = {}
    seen: dict = {}
    for r in records:
        by_run[r["run"]] = by_run.get(r["run"], 0) + 1
        seed = r.get("seed")
        if not is_missing(seed):
            if seed in seen and seen[seed] != r["run"]:
                raise XgenError(f"two finished runs of seed {display(seed)} fall into one cell "
                                f"({_where(rows, cols, row, col)}): {seen[seed]} and {r['run']}; pass one of them")
            seen[seed] = r["run"]
    if any(count > 1 for count in by_run.values()):
        raise XgenError(f"one run gives several values to one cell ({_where(rows, cols, row, col)}): "
                        "put lang (or selection) in rows or cols")


def mark(table: Table, *, source_lang: str, min_distinct: float, max_empty: float) -> None:
    """Seed counts, degenerate predictions and the best value per column (per size block)."""
    expected = max((c.seeds for c in table.cells.values() if c.seeded and not c.delta), default=0)
    fewer = False
    for cell in table.cells.values():
        if cell.degenerate:
            cell.marks.append(MARK_DEGENERATE)
        if cell.seeded and not cell.delta and 0 < cell.seeds < expected:
            cell.marks.append(f"(n={cell.seeds})")
            fewer = True
    bolded = False
    for j, column in enumerate(table.columns):
        higher = HIGHER_IS_BETTER.get(column.metric)
        if column.metric == "lid_en" and column.lang == source_lang:
            higher = True  # in the source-language column, LID_EN is that language's own ID
        if higher is None:
            continue
        for block in table.blocks():
            candidates = [table.cells.get((i, j)) for i in block]
            candidates = [c for c in candidates if c and c.mean is not None and not c.delta and not c.degenerate]
            if len(candidates) < 2:
                continue
            # Compared as printed (one decimal): cells that read the same are all bold, and a column
            # where every cell reads the same has no best.
            printed = [round(c.mean if higher else -c.mean, 1) for c in candidates]
            if len(set(printed)) == 1:
                continue
            for c, value in zip(candidates, printed, strict=True):
                if value == max(printed):
                    c.bold = bolded = True
    if fewer:
        table.footnotes.append(f"(n=k): the mean of k seeds, where the table's other cells have {expected}; "
                               "missing runs are listed below or were not given")
    if any(c.degenerate for c in table.cells.values()):
        table.footnotes.append(degenerate_footnote(min_distinct, max_empty))
    if bolded:
        where = " within each size" if table.row_keys[:1] == ["size"] else ""
        table.footnotes.append(f"bold: the best value of its column{where} (LID_EN: the lowest, except in the "
                               f"{source_lang.upper()} column); degenerate cells never count as best")
