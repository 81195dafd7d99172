"""Which folders are runs: a folder holding run.json. `runs=` may name run folders, sweep roots
(Hydra's `multirun/<date>/<time>/<job>/`) or any folder above them; all are searched nested."""

from __future__ import annotations

import os
from pathlib import Path

from xgen_cli.errors import XgenError

RUN_FILE = "run.json"
# A run's own subfolders never hold other runs; skipping them keeps a search over 1,000 runs from
# listing hundreds of thousands of prediction and checkpoint files.
_NOT_RUNS = {"predictions", "checkpoints", "csv", "wandb", "lightning_logs", "__pycache__"}


def find_runs(paths: list[str | os.PathLike]) -> list[Path]:
    """Every run folder at or under `paths`, in path order, each once."""
    found: dict[Path, None] = {}
    for given in map(Path, paths):
        if not given.exists():
            raise XgenError(f"runs: {given} does not exist: give run folders, sweep roots or a folder above them")
        if (given / RUN_FILE).is_file():
            found[given] = None
            continue
        under = []
        for root, dirs, files in os.walk(given):
            if RUN_FILE in files:
                under.append(Path(root))
                dirs.clear()  # a run folder does not nest runs
                continue
            dirs[:] = sorted(d for d in dirs if d not in _NOT_RUNS and not d.startswith("."))
        if not under:
            raise XgenError(f"runs: no run folder (a folder with {RUN_FILE}) at or under {given}: "
                            "point at folders written by xgen train/eval")
        found.update(dict.fromkeys(sorted(under)))
    return list(found)
