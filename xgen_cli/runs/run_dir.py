"""One run's directory: where each file lives, and the run's lifecycle (start, log, finish/fail).

Layout (DESIGN.md "Run directory"):
    run.json                                  status (running|done|failed), started/finished (UTC,
                                              ISO 8601), xgen_version, git_sha, argv, identity;
                                              "error" when failed
    metrics.jsonl                             one evaluation row per (step, stage, split, lang)
    predictions/step=<N>/<lang>.jsonl         validation predictions {"id", "prediction", "reference"}
    predictions/split=<S>/step=<N>/<lang>.jsonl   any other split S (e.g. test); the `split=` folder
                                              cannot be mistaken for a `step=` folder, and the
                                              common case keeps DESIGN.md's short path
    checkpoints/                              full training state (written by the trainer)
    summary.json                              written last, atomically; its presence means finished

Status: "done" when summary.json exists (whatever run.json says); "failed" when run.json says so;
"running" otherwise, which also covers a run killed without a chance to call `fail` (a crash
cannot be told apart from a live run from the files alone); "missing" when there is no run.json.
"""

from __future__ import annotations

import datetime
import os
import subprocess
from pathlib import Path

from xgen_cli import __version__
from xgen_cli.errors import XgenError
from xgen_cli.runs.files import append_jsonl, atomic_write_json, read_json, read_jsonl, write_jsonl
from xgen_cli.runs.summary import METRIC_KEYS

# A metrics row: these keys always; "loss" where the teacher-forced loss was computed.
REQUIRED_ROW_KEYS = ("step", "stage", "split", "lang", "n") + METRIC_KEYS


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def _git_sha() -> str | None:
    """HEAD of the xgen source checkout, or None (installed wheel, no git, not a checkout)."""
    source_root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(
            ["git", "-C", str(source_root), "rev-parse", "--show-toplevel", "HEAD"],
            capture_output=True, text=True, timeout=5, check=True,
        ).stdout.split()
    except (OSError, subprocess.SubprocessError):
        return None
    # An installed xgen inside some other git repository (a venv in the user's project) must not
    # report that repository's commit.
    if len(out) != 2 or Path(out[0]).resolve() != source_root:
        return None
    return out[1]


def _check_name(kind: str, value: str) -> None:
    # lang and split become path components; a separator would escape predictions/. A bug, not
    # user input: langs and splits come from the data module.
    if not value or "/" in value or os.sep in value or value in (".", ".."):
        raise ValueError(f"{kind} {value!r} cannot be used as a file name")


class RunDir:
    """The files of one run. Cheap to construct: nothing is read or written until a method asks."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    # ---- where things live
    @property
    def run_json(self) -> Path:
        return self.path / "run.json"

    @property
    def metrics_jsonl(self) -> Path:
        return self.path / "metrics.jsonl"

    @property
    def summary_json(self) -> Path:
        return self.path / "summary.json"

    @property
    def checkpoints(self) -> Path:
        return self.path / "checkpoints"

    @property
    def predictions(self) -> Path:
        return self.path / "predictions"

    def predictions_file(self, step: int, lang: str, split: str = "validation") -> Path:
        _check_name("lang", lang)
        _check_name("split", split)
        base = self.predictions if split == "validation" else self.predictions / f"split={split}"
        return base / f"step={int(step)}" / f"{lang}.jsonl"

    # ---- lifecycle
    def start(self, argv: list[str], identity: dict) -> None:
        """Create the directory and write run.json with status "running"."""
        if self.summary_json.exists():
            raise XgenError(
                f"{self.path} already holds a finished run (summary.json); "
                "pick a new output dir or delete it"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_json(self.run_json, {
            "status": "running",
            "started": _now(),
            "finished": None,
            "xgen_version": __version__,
            "git_sha": _git_sha(),
            "argv": list(argv),
            "identity": identity,
        })

    def log_metrics(self, row: dict) -> None:
        """Append one evaluation row to metrics.jsonl (flushed and fsynced before returning)."""
        missing = [key for key in REQUIRED_ROW_KEYS if key not in row]
        if missing:
            raise ValueError(f"metrics row lacks {', '.join(missing)}: {row!r}")
        append_jsonl(self.metrics_jsonl, row)

    def write_predictions(self, step: int, lang: str, rows: list[dict], split: str = "validation") -> Path:
        """Write one (step, lang, split) predictions file atomically; returns its path."""
        path = self.predictions_file(step, lang, split)
        write_jsonl(path, rows)
        return path

    def finish(self, summary: dict) -> None:
        """Mark run.json done, then write summary.json: last, so its presence means finished."""
        self._update_run_json(status="done", finished=_now())
        atomic_write_json(self.summary_json, summary)

    def fail(self, message: str) -> None:
        """Mark run.json failed with the error message; no summary.json is written."""
        self._update_run_json(status="failed", finished=_now(), error=message)

    def _update_run_json(self, **changes) -> None:
        info = read_json(self.run_json) if self.run_json.exists() else {}
        info.update(changes)
        atomic_write_json(self.run_json, info)

    # ---- reading
    def read_metrics(self) -> list[dict]:
        """All metrics rows, in the order they were logged ([] before the first evaluation)."""
        return read_jsonl(self.metrics_jsonl) if self.metrics_jsonl.exists() else []

    def read_run_json(self) -> dict:
        return read_json(self.run_json)

    def read_summary(self) -> dict | None:
        return read_json(self.summary_json) if self.summary_json.exists() else None

    def status(self) -> str:
        """"done" | "failed" | "running" | "missing" (see the module docstring)."""
        if self.summary_json.exists():
            return "done"
        if not self.run_json.exists():
            return "missing"
        return "failed" if self.read_run_json().get("status") == "failed" else "running"
