"""Analyse trained runs: `xgen analyze prompts runs=[...]` clusters learned prompts (paper Figure 8).

Each run contributes one prompt, labelled by the language it was trained on: the IT-LM stage's
languages (`intermediate.langs`) for its checkpoint, else `train_lang`. Writes the clustered heatmap
(`<out>/prompts_similarity.png`) and the cosine-similarity matrix in the clustering's order
(`<out>/prompts_similarity.csv`), and prints both paths and the matrix.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from xgen_cli.commands._app import xgen_app
from xgen_cli.errors import XgenError

POSITIONAL_GROUP = "analysis"  # `xgen analyze prompts` reads as `xgen analyze analysis=prompts`
CHECKPOINTS = {"intermediate": Path("checkpoints/intermediate/best.ckpt"), "last": Path("checkpoints/last.ckpt")}


@xgen_app("analyze")
def main(cfg: DictConfig) -> None:
    from xgen_cli.prompt_clustering import cosine_similarities, heatmap, read_prompt
    from xgen_cli.runs.discover import find_runs

    if not cfg.runs:
        raise XgenError("no runs given: xgen analyze prompts runs=[<run dir or sweep root>,...]")
    if cfg.analysis.checkpoint not in ("auto", *CHECKPOINTS):
        raise XgenError(f"analysis.checkpoint={cfg.analysis.checkpoint} is not auto, intermediate or last")
    vectors, labels, without = [], [], []
    for run in find_runs(list(cfg.runs)):
        stage = _stage(run, cfg.analysis.checkpoint)
        vector = read_prompt(run / CHECKPOINTS[stage]) if (run / CHECKPOINTS[stage]).is_file() else None
        if vector is None:
            without.append(str(run))
            continue
        vectors.append(vector)
        labels.append(_language(run, stage))
    if len(vectors) < 2:
        raise XgenError(f"xgen analyze prompts needs two or more runs with a learned prompt ({len(vectors)} found; "
                        f"without one: {', '.join(without) or 'none'}): give prompt-tuning runs (README, Prompt clustering)")
    labels = _unique(labels)
    similarity = cosine_similarities(vectors)
    fig, order = heatmap(similarity, labels)

    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    png, table = out / f"{cfg.analysis.name}_similarity.png", out / f"{cfg.analysis.name}_similarity.csv"
    fig.savefig(png, dpi=300)
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["prompt", *(labels[k] for k in order)])
    writer.writerows([labels[i], *(f"{similarity[i, j]:.4f}" for j in order)] for i in order)
    table.write_text(text.getvalue(), encoding="utf-8")
    print(text.getvalue(), end="")
    if without:
        print(f"no learned prompt, left out ({len(without)}): {', '.join(without)}")
    print(png)
    print(table)


def _stage(run: Path, choice: str) -> str:
    if choice != "auto":
        return choice
    return "intermediate" if (run / CHECKPOINTS["intermediate"]).is_file() else "last"


def _language(run: Path, stage: str) -> str:
    """The language(s) the prompt was trained on: the IT-LM stage's (`intermediate.langs` of the run's
    config) or the run's train_lang (run.json identity)."""
    from xgen_cli.runs.run_dir import RunDir

    config = run / ".hydra" / "config.yaml"
    if stage == "intermediate" and config.is_file():
        langs = OmegaConf.load(config).intermediate.get("langs")
        return "+".join(langs) if OmegaConf.is_list(langs) else str(langs)
    return str(RunDir(run).read_run_json().get("identity", {}).get("train_lang") or run.name)


def _unique(labels: list[str]) -> list[str]:
    """Repeated labels (seeds of one language) numbered: ru #1, ru #2."""
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if labels.count(label) == 1 else f"{label} #{seen[label]}")
    return out
