"""Run folders with known numbers, written as xgen writes them (run.json + summary.json, and where
asked metrics.jsonl and predictions), for the table, significance and plot tests. No training."""

from __future__ import annotations

import json
from pathlib import Path

from xgen_cli.runs import RunDir, build_summary

TRAINED = {"model": "xxl", "method": "prompt", "data": "demo", "trainer": "gpu", "mixing": "none",
           "intermediate": "none", "seed": 0, "prompt_length": 100, "name_or_path": None, "steps": 100000,
           "mixing_rate": 0.0, "intermediate_steps": None, "train_lang": "en"}
DIAGNOSTICS = {"lid_target": 90.0, "lid_en": 2.0, "ascii": 5.0, "distinct": 100.0, "empty": 0.0}


def identity(**changes) -> dict:
    out = dict(TRAINED, **changes)
    if out["method"] == "model":
        out["prompt_length"] = None
    return out


def baseline_identity(name: str = "LEAD-64") -> dict:
    return {"mode": "baseline", "baseline": name, "run": None, "predictions": None}


def write_run(path: Path, ident: dict, scores: dict[str, dict | float], step: int = 5000,
              predictions: dict[str, list[dict]] | None = None, curve: dict[int, dict[str, dict]] | None = None) -> Path:
    """A finished run. `scores`: {lang: sp_rouge or {metric: value}}, logged at `step`; `curve`:
    {step: {lang: metrics}} for learning curves instead; `predictions`: {lang: rows} at `step`."""
    run = RunDir(path)
    run.start(["xgen train"], ident)
    rows = []
    for at, per_lang in (curve or {step: scores}).items():
        for lang, value in per_lang.items():
            metrics = dict(DIAGNOSTICS, **({"sp_rouge": value} if isinstance(value, int | float) else value))
            row = {"step": at, "stage": "main", "split": "validation", "lang": lang, "n": 250, **metrics}
            run.log_metrics(row)
            rows.append(row)
    for lang, lines in (predictions or {}).items():
        run.write_predictions(step, lang, lines)
    run.finish(build_summary(rows, ident))
    return path


def write_unfinished(path: Path, ident: dict, status: str, **fields) -> Path:
    run = RunDir(path)
    run.start(["xgen train"], ident)
    info = json.loads(run.run_json.read_text())
    info.update(status=status, **fields)
    run.run_json.write_text(json.dumps(info))
    return path


# paper.md, "Published figures": XXL, best checkpoint per target language, SP-RG mean (std) over 3
# seeds, and LID_XX (means only).
PAPER_XXL = {
    "PROMPT": {"en": (43.4, 0.4), "fr": (37.4, 0.2), "ru": (29.2, 1.0), "vi": (38.0, 0.0), "th": (37.4, 0.7)},
    "MODEL": {"en": (46.7, 0.1), "fr": (35.5, 0.6), "ru": (27.2, 0.4), "vi": (34.0, 0.5), "th": (30.1, 0.5)},
}
PAPER_XXL_LID = {"PROMPT": {"fr": 95.9, "ru": 84.4, "vi": 96.4, "th": 75.5},
                 "MODEL": {"fr": 86.0, "ru": 57.5, "vi": 79.1, "th": 16.8}}


def write_paper_xxl(root: Path) -> Path:
    """Three seeds per method at m - s, m, m + s: their mean is m and their sample std exactly s."""
    for method, per_lang in PAPER_XXL.items():
        for seed, k in enumerate((-1, 0, 1)):
            scores = {}
            for lang, (mean, std) in per_lang.items():
                lid = PAPER_XXL_LID[method].get(lang)
                scores[lang] = {"sp_rouge": round(mean + k * std, 4), "lid_en": None,
                                "lid_target": lid if lang != "en" else None}
            write_run(root / f"{method.lower()}-s{seed}", identity(method=method.lower(), seed=seed), scores)
    return root
