"""Run folders as one tidy pandas frame: a row per finished run x language x selection rule.

Columns: `run` (its folder), `size` (identity's `model`), `method` (the paper's name: PROMPT,
MODEL+MIX-UNSUP, LEAD-64, ...), `base` and `remedy` (that name split at its first "+"), `tuning`
(identity's own `method`: prompt, model, fp, ...), every other key of run.json's identity (seed,
prompt_length, mixing, intermediate, baseline, steps, ...; `identity_<key>` where a key would
overwrite one of these columns), then
`selection`, `lang`, `step`, `n`, the metrics of summary.json and `split`, `source_lang`.
Runs without summary.json (running, failed, crashed, interrupted) are not rows: `Runs.unfinished`
lists them with run.json's status and reason, so a table can print them beneath itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from xgen_cli.errors import XgenError
from xgen_cli.runs.discover import find_runs
from xgen_cli.runs.files import read_json
from xgen_cli.runs.summary import METRIC_KEYS
from xgen_cli.runs.table import method_label

# Identity keys that say where an input lives, not what was run: the seeds of a sweep legitimately
# differ in them (each FP seed may point at its own stage-1 folder), so they never split a cell.
LOCATION_KEYS = ("identity_run", "predictions", "stage1", "mode")
VALUE_COLUMNS = ("step", "n", *METRIC_KEYS, "loss")
# Frame columns an identity key must not overwrite: such a key becomes `identity_<key>` (an eval
# run's identity names the run it re-evaluated as "run").
RESERVED = ("run", "size", "method", "base", "remedy", "tuning", "selection", "lang", "split", "source_lang",
            *VALUE_COLUMNS)


def column_of(key: str) -> str:
    return f"identity_{key}" if key in RESERVED else key


def row_label(identity: dict) -> str:
    """A run's row name: the baseline's own name, else the paper's method name with its remedies.
    SUP / SUP-ALL / TRANS-TRAIN (paper.md, Baselines) are training runs on a language other than
    English: xgen reads `train_lang: all` as SUP-ALL, any single language as SUP, and one with a
    translator (`translate`: the English data translated into it) as TRANS-TRAIN."""
    if identity.get("baseline"):
        return str(identity["baseline"])
    label = method_label(identity)
    train_lang = identity.get("train_lang")
    if train_lang and train_lang != "en" and identity.get("translate"):
        return "TRANS-TRAIN"
    if train_lang and train_lang != "en":
        label += "+SUP-ALL" if train_lang == "all" else "+SUP"
    return label


@dataclass(frozen=True)
class Unfinished:
    path: Path
    status: str
    reason: str

    def line(self) -> str:
        return f"{self.path}: {self.status}" + (f" ({self.reason})" if self.reason else "")


@dataclass
class Runs:
    frame: pd.DataFrame
    unfinished: list[Unfinished] = field(default_factory=list)
    identity_keys: tuple[str, ...] = ()

    @property
    def source_lang(self) -> str:
        langs = self.frame["source_lang"].dropna() if len(self.frame) else pd.Series(dtype=object)
        return str(langs.mode().iloc[0]) if len(langs) else "en"


def _hashable(value):
    # Identity values become group keys; a list (e.g. languages) must compare by content.
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    return value


def _unfinished(path: Path, run_json: dict) -> Unfinished:
    status = str(run_json.get("status") or "unknown")
    if status == "done":  # finish() writes run.json first; a crash between the two writes
        return Unfinished(path, "done", "run.json says done but summary.json is missing: re-run it")
    reason = run_json.get("reason") or run_json.get("error") or ""
    where = ", ".join(f"{key} {run_json[key]}" for key in ("host", "pid") if run_json.get(key) is not None)
    return Unfinished(path, status, "; ".join(part for part in (str(reason), where) if part))


def load_runs(paths: list[str | os.PathLike]) -> Runs:
    """The runs at or under `paths` (see discover.find_runs) as a tidy frame plus the unfinished."""
    records, unfinished, keys = [], [], {}
    for path in find_runs(paths):
        try:
            run_json = read_json(path / "run.json")
            summary = read_json(path / "summary.json") if (path / "summary.json").is_file() else None
        except XgenError as exc:  # one torn file must not hide the other 999 runs
            unfinished.append(Unfinished(path, "unreadable", str(exc)))
            continue
        if summary is None:
            unfinished.append(_unfinished(path, run_json))
            continue
        identity = run_json.get("identity") or summary.get("identity") or {}
        label = row_label(identity)
        base, _, remedy = label.partition("+")
        run = {"run": str(path), "size": identity.get("model"), "method": label, "base": base, "remedy": remedy,
               "tuning": identity.get("method")}  # tuning: identity's own `method` (prompt, model, fp, ...)
        run.update({column_of(key): _hashable(value) for key, value in identity.items() if key != "method"})
        keys.update(dict.fromkeys(column_of(key) for key in identity if key != "method"))
        for selection, per_lang in (summary.get("select") or {}).items():
            for lang, entry in per_lang.items():
                record = dict(run, selection=selection, lang=lang, split=summary.get("split"),
                              source_lang=summary.get("source_lang", "en"))
                record.update({key: entry.get(key) for key in VALUE_COLUMNS})
                records.append(record)
    return Runs(frame=_frame(records), unfinished=unfinished, identity_keys=tuple(keys))


def _frame(records: list[dict]) -> pd.DataFrame:
    # Identity columns stay object dtype: a None beside ints must not turn prompt_length 100 into
    # the float 100.0 (tables print these values as row labels).
    # The keys tables filter on exist even when no run has them (no baseline among the runs).
    columns = dict.fromkeys(["run", "size", "method", "base", "remedy", "tuning", "seed", "prompt_length",
                             "baseline", "train_lang", "selection", "lang", "split", "source_lang", *VALUE_COLUMNS])
    for record in records:
        columns.update(dict.fromkeys(record))
    data = {}
    for column in columns:
        values = [record.get(column) for record in records]
        if column in VALUE_COLUMNS:
            data[column] = pd.Series([float("nan") if v is None else float(v) for v in values], dtype=float)
        else:
            data[column] = pd.Series(values, dtype=object)
    return pd.DataFrame(data)
