"""Print results tables of run folders: per-run metric blocks, the paper's tables 8/10/11, baselines, a pivot.

`xgen table runs=[outputs/multirun/2026-12-01] table=table10 format=latex select=target`.
`runs=` takes run folders, sweep roots or any folder above them (searched nested for run.json).
Without `table=`, each run is one row of one block per metric (as `make demo` prints); the paper's
tables average seeds, mark partial cells, degenerate predictions, the best value per column and
significant differences, and list every run they leave out beneath them (xgen_cli/runs/layouts.py).
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from xgen_cli.commands._app import xgen_app
from xgen_cli.errors import XgenError
from xgen_cli.runs.discover import find_runs
from xgen_cli.runs.files import read_json
from xgen_cli.runs.table import format_language_table, method_label


def run_label(identity: dict, run_dir: Path) -> str:
    if identity.get("baseline"):
        return identity["baseline"]
    if identity.get("method"):
        return f"{method_label(identity)} {identity.get('model', '')} s{identity.get('seed', 0)}".strip()
    return run_dir.name


def _as_list(value) -> list:
    if value is None:
        return []
    return list(value) if OmegaConf.is_list(value) or isinstance(value, list | tuple) else [value]


@xgen_app("table")
def main(cfg: DictConfig) -> None:
    if not cfg.runs:
        raise XgenError("no runs given: xgen table runs=[<run dir or sweep root>,...]")
    if cfg.table == "runs":
        print_run_blocks(cfg)
        return
    from xgen_cli.runs.frame import load_runs
    from xgen_cli.runs.layouts import Options, build
    from xgen_cli.runs.render import FORMATS, render

    fmt = cfg.format or "md"
    if fmt not in FORMATS:
        raise XgenError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    options = Options(
        selection=cfg.select, langs=_as_list(cfg.langs) or None, by=_as_list(cfg.by), rows=_as_list(cfg.rows),
        cols=_as_list(cfg.cols), metrics=_as_list(cfg.metric), against=cfg.against, **degenerate_limits(cfg),
    )
    test = None
    if cfg.significance:
        from xgen_cli.runs.significance import PairedTest

        test = PairedTest(SpmResolver(cfg.spm_model), resamples=int(cfg.resamples), seed=int(cfg.bootstrap_seed))
    table = build(cfg.table, load_runs(list(cfg.runs)), options, test)
    print(render(table, fmt), end="")


def degenerate_limits(cfg: DictConfig) -> dict[str, float]:
    """conf/table.yaml's `degenerate:` limits, the same for every table form."""
    return {"min_distinct": float(cfg.degenerate.min_distinct), "max_empty": float(cfg.degenerate.max_empty)}


def print_run_blocks(cfg: DictConfig) -> None:
    """One block per metric, a row per run (the output `make demo` ends with)."""
    if cfg.format:
        raise XgenError("table=runs prints one text block per metric; for format=... pick a table "
                        "(table=pivot rows=[method,size,seed] cols=[lang] metric=sp_rouge)")
    summaries, unfinished = {}, []
    for path in find_runs(list(cfg.runs)):
        run_json = read_json(path / "run.json")
        if not (path / "summary.json").is_file():
            reason = run_json.get("reason") or run_json.get("error")
            unfinished.append(f"{path}: {run_json.get('status', 'unknown')}" + (f" ({reason})" if reason else ""))
            continue
        label = run_label(run_json.get("identity") or {}, path)
        while label in summaries:
            label += "'"
        summaries[label] = read_json(path / "summary.json")
    langs = _as_list(cfg.langs) or None
    if summaries:
        print(format_language_table(summaries, selection=cfg.select, langs=langs, **degenerate_limits(cfg)), end="")
    if unfinished:
        print(f"\nnot finished, not in the table ({len(unfinished)} run(s)):")
        print("\n".join(f"  {line}" for line in unfinished))


class SpmResolver:
    """The SentencePiece model SP-ROUGE used for a run, to re-score its predictions per example:
    `spm_model=` if given; else the backbone folder or hub cache of run.json's `name_or_path`
    (no network); else the cached tiny backbone its .hydra/config.yaml describes. None if none is
    found: the table then says which cells it could not test."""

    def __init__(self, spm_model: str | None):
        self.spm_model = spm_model
        self._scorers: dict[str, object] = {}

    def __call__(self, run: Path):
        from xgen_cli.metrics.sp_rouge import SpRouge

        path = self.spm_model or self._find(run)
        if path is None:
            return None
        if path not in self._scorers:
            self._scorers[path] = SpRouge(path)
        return self._scorers[path]

    @staticmethod
    def _find(run: Path) -> str | None:
        name_or_path = (read_json(run / "run.json").get("identity") or {}).get("name_or_path")
        if name_or_path:
            local = Path(name_or_path) / "spiece.model"
            if local.is_file():
                return str(local)
            from huggingface_hub import try_to_load_from_cache

            cached = try_to_load_from_cache(name_or_path, "spiece.model")
            return cached if isinstance(cached, str) else None
        # A tiny backbone's folder depends on the corpus it was built on: the run names it in summary.json.
        summary = run / "summary.json"
        backbone = ((read_json(summary).get("training") or {}).get("backbone")) if summary.is_file() else None
        spm = Path(backbone) / "spiece.model" if backbone else None
        return str(spm) if spm is not None and spm.is_file() else None
