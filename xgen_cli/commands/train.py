"""Train on English summarization, evaluate zero-shot in other languages (any method and remedy).

The supervised baselines train elsewhere (data/supervision.py): `train_lang=ru` (SUP), `train_lang=all`
(SUP-ALL), `train_lang=ru translate=demo|file|hf` (TRANS-TRAIN: English data translated into ru).

Steps: check the config; open the run directory; read the data (before any backbone, so a bad
line is found in seconds); build the backbone, the method and the training draws (summarization,
mixed with unlabeled text by `mixing=`); run the intermediate stage if `intermediate=` asks; build
the trainer and fit (evaluating every `eval_every` steps; both stages resume from their latest
checkpoint); write summary.json; print the run's table.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from xgen_cli.commands._app import output_dir, run_identity, xgen_app
from xgen_cli.config_checks import check, train_problems
from xgen_cli.interrupts import stop_cleanly
from xgen_cli.runs.run_dir import RunDir
from xgen_cli.runs.summary import build_summary
from xgen_cli.runs.table import format_language_table, method_label


@xgen_app("train")
def main(cfg: DictConfig) -> None:
    check(train_problems(cfg))
    run = RunDir(output_dir())
    identity = training_identity(cfg)
    run.start(sys.argv, identity)
    with stop_cleanly(run):  # failed / interrupted (checkpoint saved, exit 128+signal) in run.json
        summary = train(cfg, run, identity)
    if summary is None:  # a rank > 0 of a multi-process run: rank 0 writes and prints the results
        return
    print(format_language_table({method_label(identity): summary}, selection="target"))
    print(f"run directory: {run.path}")


def training_identity(cfg: DictConfig) -> dict:
    """run_identity, plus what places a baseline run in a table: its translator (TRANS-TRAIN) and
    SUP-ALL's weighting; absent for the paper's English runs, whose identity stays as it was."""
    identity = run_identity(cfg)
    if cfg.translate.name != "none":
        identity["translate"] = cfg.translate.name
    if cfg.train_lang == "all":
        identity["train_lang_weights"] = cfg.train_lang_weights
    return identity


def build_logger(logger_cfg: DictConfig, identity: dict):
    """The configured Lightning logger (None for logger=none), told the run's identity. W&B runs of
    one sweep share a group (the sweep folder), so the same comparison can be made in its UI."""
    if not logger_cfg.get("_target_"):
        return None
    import hydra
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if HydraConfig.get().mode == RunMode.MULTIRUN:
        os.environ.setdefault("WANDB_RUN_GROUP", Path(HydraConfig.get().sweep.dir).as_posix())
    logger = hydra.utils.instantiate(logger_cfg)
    logger.log_hyperparams(identity)
    return logger


def train(cfg: DictConfig, run: RunDir, identity: dict) -> dict | None:
    # Heavy imports here, not at module top: `xgen train --help` / `--cfg` must not load torch.
    import hydra
    import lightning as L

    from xgen_cli.checkpoints import StepCheckpoints, resume_stage
    from xgen_cli.data.batching import TrainData
    from xgen_cli.data.mixing import read_mixing_texts, tokenize_docs, training_mixture
    from xgen_cli.data.supervision import training_data
    from xgen_cli.data.token_pairs import tokenize_pairs
    from xgen_cli.evaluation import EvaluateEvery, Evaluator
    from xgen_cli.intermediate import IntermediateStage
    from xgen_cli.metrics import SpRouge
    from xgen_cli.modeling.backbone import load_backbone, spm_model_file
    from xgen_cli.modeling.tiny import resolve_name_or_path
    from xgen_cli.training import build_trainer, resolve_precision, uses_bf16
    from xgen_cli.translation import build_translator

    container = OmegaConf.to_container(cfg, resolve=True)  # plain dicts from here on
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    bf16 = uses_bf16(container["trainer"])
    # `precision: auto` differs per machine (bf16 only where the CPU has bf16 units), and so do the
    # numbers of the same seed: say which one this run used.
    precision = resolve_precision(cfg.trainer.precision, cfg.trainer.accelerator)
    print(f"[train] precision {precision} (trainer.precision={cfg.trainer.precision})", file=sys.stderr, flush=True)

    # Read the data first: a bad corpus line is found in seconds, not after a backbone build.
    corpus = hydra.utils.instantiate(cfg.data.corpus)
    translator = build_translator(container["translate"], corpus=corpus, cache_dir=cfg.cache_dir)  # TRANS-TRAIN
    data = training_data(corpus, cfg.train_lang, list(cfg.data.eval_langs), cfg.data.eval_examples,
                         allow_fewer=cfg.data.allow_fewer_eval_examples, translator=translator,
                         source_lang=cfg.source_lang)
    train_examples, eval_examples = data.train, data.evaluation  # {lang: examples}
    unlabeled = hydra.utils.instantiate(cfg.unlabeled, corpus=corpus)
    mixing = container["mixing"]
    mixing_texts = read_mixing_texts(mixing, unlabeled, corpus=corpus, eval_langs=list(cfg.data.eval_langs),
                                     train_lang=cfg.train_lang)
    intermediate = None
    if cfg.intermediate.name != "none":
        intermediate = IntermediateStage(container["intermediate"], corpus=corpus, unlabeled=unlabeled,
                                         eval_langs=list(cfg.data.eval_langs), train_lang=cfg.train_lang)
    for note in data.notes:
        print(f"[train] {note}", file=sys.stderr, flush=True)
    print("[train] " + ", ".join(f"{len(x)} {lang}" for lang, x in train_examples.items())
          + " training examples; evaluating on "
          + ", ".join(f"{lang} ({len(x)})" for lang, x in eval_examples.items()), file=sys.stderr, flush=True)

    # Build the backbone and the method.
    name_or_path = resolve_name_or_path(container["model"], cfg.cache_dir, container["trainer"])
    backbone, tokenizer = load_backbone(name_or_path)
    method = hydra.utils.instantiate(cfg.method, backbone=backbone, tokenizer=tokenizer, seed=cfg.seed, _convert_="all")
    method.max_tokens_per_pass = cfg.max_tokens_per_pass

    # Build the training draws: English summarization, mixed with unlabeled text at rate kappa.
    lengths = {"max_input_tokens": cfg.max_input_tokens, "max_target_tokens": cfg.max_target_tokens}
    train_pairs = {lang: tokenize_pairs(examples, tokenizer, **lengths)  # compact: 4 bytes a token
                   for lang, examples in train_examples.items()}
    docs = {lang: tokenize_docs(tokenizer, texts, cfg.max_input_tokens) for lang, texts in mixing_texts.items()}
    draws = training_mixture(train_pairs, mixing, docs, tokenizer, **lengths, weighting=cfg.train_lang_weights,
                             total=cfg.steps * cfg.batch_size * cfg.accumulate_grad_batches, seed=cfg.seed)

    # Intermediate stage (IT-LM, IT-GIGAWORD): the main stage starts from its best checkpoint.
    stages = {}
    if intermediate is not None:
        stages["intermediate"] = intermediate.tune(
            method, tokenizer, run=run, trainer=container["trainer"], batch_size=cfg.batch_size,
            accumulate_grad_batches=cfg.accumulate_grad_batches, seed=cfg.seed, bf16=bf16, **lengths)

    # Build the main stage's trainer: evaluation and checkpoints every eval_every steps.
    sp_rouge = SpRouge(cfg.metrics.spm_model or spm_model_file(name_or_path))
    evaluator = Evaluator(eval_examples, tokenizer, sp_rouge, bf16=bf16, max_new_tokens=cfg.max_new_tokens,
                          max_tokens_per_pass=cfg.max_tokens_per_pass, **lengths, **container["eval"])
    checkpoints = StepCheckpoints(run.checkpoints, cfg.eval_every, cfg.keep_checkpoints, stage="main")
    logger = build_logger(cfg.logger, identity)
    trainer = build_trainer(container["trainer"], max_steps=cfg.steps, root_dir=run.path, logger=logger,
                            callbacks=[EvaluateEvery(evaluator, cfg.eval_every, run), checkpoints],
                            accumulate_grad_batches=cfg.accumulate_grad_batches)

    # Run.
    trainer.fit(method, TrainData(draws, cfg.batch_size, tokenizer.pad_token_id),
                ckpt_path=resume_stage(run, "main", run.checkpoints, logger))  # None: from step 0
    if not trainer.is_global_zero:
        return None

    # Save: summary.json last, atomically; its presence means "finished".
    summary = build_summary(run.read_metrics(), identity, source_lang=cfg.source_lang)
    counts = draws.counts()
    print(f"[train] draws per source: {counts}", file=sys.stderr, flush=True)
    # backbone: the folder it was read from (for model=tiny, the build on this corpus); tables re-score with its spiece.model
    summary["training"] = {"precision": precision, "draws": counts, "backbone": name_or_path, **stages}
    summary["data"] = {"skipped_lines": corpus.skipped}  # data.on_bad_line=skip: bad lines per file
    run.finish(summary)
    return summary
