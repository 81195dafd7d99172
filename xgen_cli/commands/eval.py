"""Evaluate a baseline, a finished run's checkpoint, or a predictions file, on any languages.

Three modes, one of which must be chosen: `baseline=lead64` (no training), `run=<run dir>`
(re-evaluate its last checkpoint, or `checkpoint=<file>`), `predictions=<file.jsonl> lang=<xx>`
(score {"prediction", "reference"} lines). Each writes metrics.jsonl, predictions and summary.json
into its own output directory, like a training run.
"""

from __future__ import annotations

import sys
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from xgen_cli.commands._app import output_dir, xgen_app
from xgen_cli.config_checks import check, data_problems, model_problems
from xgen_cli.errors import XgenError
from xgen_cli.runs.run_dir import RunDir


def problems(cfg: DictConfig) -> list[str]:
    modes = [m for m in ("baseline", "run", "predictions") if cfg.get(m)]
    if len(modes) != 1:
        return ["choose exactly one of baseline=lead64, run=<run dir>, predictions=<file.jsonl> lang=<xx>"
                + (f" (got {', '.join(modes)})" if modes else "")]
    found = []
    if cfg.predictions:
        if not Path(cfg.predictions).is_file():
            found.append(f"predictions={cfg.predictions} does not exist: give a JSONL file of prediction/reference lines")
        if not cfg.lang:
            found.append("predictions=... needs the language of its texts: add lang=<xx>")
    if cfg.run and not (Path(cfg.run) / ".hydra" / "config.yaml").is_file():
        found.append(f"run={cfg.run} holds no .hydra/config.yaml: point it at a training run's directory")
    if cfg.get("baseline"):
        found += model_problems(cfg) + data_problems(cfg)
    return found


@xgen_app("eval")
def main(cfg: DictConfig) -> None:
    check(problems(cfg))
    run = RunDir(output_dir())
    baseline = cfg.get("baseline")
    mode = "baseline" if baseline else "run" if cfg.run else "predictions"
    identity = {"mode": mode, "baseline": baseline.name if baseline else None,
                "run": cfg.run, "predictions": cfg.predictions}
    run.start(sys.argv, identity)
    try:
        rows = {"baseline": eval_baseline, "run": eval_run, "predictions": eval_predictions}[mode](cfg, run)
    except BaseException as exc:
        run.fail(f"{type(exc).__name__}: {exc}")
        raise
    from xgen_cli.runs.summary import build_summary
    from xgen_cli.runs.table import format_language_table

    summary = build_summary(rows, identity, source_lang=cfg.source_lang)
    run.finish(summary)
    print(format_language_table({identity["baseline"] or mode.upper(): summary}, selection="last"))
    print(f"run directory: {run.path}")


def _sp_rouge(cfg: DictConfig, name_or_path: str | None):
    from xgen_cli.metrics import SpRouge
    from xgen_cli.modeling.backbone import spm_model_file

    if cfg.metrics.spm_model:
        return SpRouge(cfg.metrics.spm_model)
    if name_or_path is None:
        raise XgenError("scoring needs a SentencePiece model: set metrics.spm_model=<file> or model.name_or_path")
    return SpRouge(spm_model_file(name_or_path))


def _langs(cfg: DictConfig, default) -> list[str]:
    return list(cfg.langs or default)


def eval_baseline(cfg: DictConfig, run: RunDir) -> list[dict]:
    import hydra

    from xgen_cli.evaluation import format_progress, prediction_rows
    from xgen_cli.metrics import score_language
    from xgen_cli.modeling.backbone import spm_model_file
    from xgen_cli.modeling.tiny import resolve_name_or_path

    container = OmegaConf.to_container(cfg, resolve=True)
    name_or_path = resolve_name_or_path(container["model"], cfg.cache_dir, container["trainer"])
    spm_file = cfg.metrics.spm_model or str(spm_model_file(name_or_path))
    recipe = {k: v for k, v in container["baseline"].items() if k != "name"}  # name only labels tables
    predict = hydra.utils.instantiate(recipe, spm_model_file=spm_file)
    sp_rouge = _sp_rouge(cfg, name_or_path)
    corpus = hydra.utils.instantiate(cfg.data.corpus)
    rows = []
    for lang in _langs(cfg, cfg.data.eval_langs):
        examples = corpus.examples(lang, cfg.split, cfg.data.eval_examples)
        predictions = [predict(e.article) for e in examples]
        row = {"step": 0, "stage": "main", "split": cfg.split, "lang": lang}
        row.update(score_language(predictions, [e.summary for e in examples], lang, sp_rouge))
        run.write_predictions(0, lang, prediction_rows(examples, predictions), split=cfg.split)
        run.log_metrics(row)
        rows.append(row)
        print(format_progress(row, 0.0), file=sys.stderr, flush=True)
    return rows


def eval_predictions(cfg: DictConfig, run: RunDir) -> list[dict]:
    from xgen_cli.metrics import score_language
    from xgen_cli.runs.files import read_jsonl

    lines = read_jsonl(Path(cfg.predictions))
    bad = [i for i, r in enumerate(lines, 1) if not isinstance(r.get("prediction"), str) or not isinstance(r.get("reference"), str)]
    if bad:
        raise XgenError(f"{cfg.predictions} line {bad[0]} lacks string fields prediction/reference: every line needs both")
    model_path = None if cfg.metrics.spm_model else _resolved_model_path(cfg)
    row = {"step": 0, "stage": "main", "split": cfg.split, "lang": cfg.lang}
    row.update(score_language([r["prediction"] for r in lines], [r["reference"] for r in lines], cfg.lang,
                              _sp_rouge(cfg, model_path)))
    run.log_metrics(row)
    return [row]


def _resolved_model_path(cfg: DictConfig) -> str:
    from xgen_cli.modeling.tiny import resolve_name_or_path

    container = OmegaConf.to_container(cfg, resolve=True)
    return resolve_name_or_path(container["model"], cfg.cache_dir, container["trainer"])


def eval_run(cfg: DictConfig, run: RunDir) -> list[dict]:
    """Rebuild the run's backbone and method from its own config, load a checkpoint, evaluate."""
    import hydra
    import torch

    from xgen_cli.evaluation import Evaluator
    from xgen_cli.modeling.backbone import load_backbone
    from xgen_cli.modeling.tiny import resolve_name_or_path
    from xgen_cli.training import resolve_precision

    source = Path(cfg.run)
    trained = OmegaConf.load(source / ".hydra" / "config.yaml")
    checkpoint = Path(cfg.checkpoint) if cfg.checkpoint else source / "checkpoints" / "last.ckpt"
    if not checkpoint.is_file():
        raise XgenError(f"{checkpoint} does not exist: give checkpoint=<file.ckpt> of that run")
    container = OmegaConf.to_container(trained, resolve=True)
    name_or_path = resolve_name_or_path(container["model"], trained.cache_dir, container["trainer"])
    backbone, tokenizer = load_backbone(name_or_path)
    method = hydra.utils.instantiate(trained.method, backbone=backbone, tokenizer=tokenizer, seed=trained.seed,
                                     _convert_="all")
    state = torch.load(checkpoint, map_location="cpu", weights_only=True)
    method.load_state_dict(state["state_dict"], strict=method.checkpoint_keys() is None)
    step = int(state.get("global_step", 0))
    corpus = hydra.utils.instantiate(trained.data.corpus)
    langs = _langs(cfg, trained.data.eval_langs)
    examples = {lang: corpus.examples(lang, cfg.split, cfg.data.eval_examples) for lang in langs}
    trainer = container["trainer"]
    bf16 = resolve_precision(trainer["precision"], trainer["accelerator"]).startswith("bf16")
    evaluator = Evaluator(examples, tokenizer, _sp_rouge(cfg, name_or_path), bf16=bf16,
                          max_new_tokens=trained.max_new_tokens, max_input_tokens=trained.max_input_tokens,
                          max_target_tokens=trained.max_target_tokens, split=cfg.split, **container["eval"])
    return evaluator.evaluate(method, step, run)
