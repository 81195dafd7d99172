"""Unsupervised training on unlabeled text: the tiny backbone's build (span corruption, then prefix
LM), LM adaptation of a checkpoint, and factorized-prompt stage 1 (the seven tasks x languages).

All three draw from the same index-addressable Mixture as `xgen train` and run the same Lightning
Trainer; they differ in which parameters train (ModelTuning: all; FactorizedPromptPretraining: the
sub-prompts) and in the mixture's sources.
"""

from __future__ import annotations

import sys

from xgen_cli.data.batching import TrainData
from xgen_cli.data.mixing import tokenize_docs
from xgen_cli.data.mixture import Generated, Mixture
from xgen_cli.data.tasks import make_unsupervised_task
from xgen_cli.modeling.methods.model import ModelTuning
from xgen_cli.training import build_trainer


def pretrain(backbone, tokenizer, texts: list[str], stages: list[tuple[str, int]], *, batch_size: int, lr: float,
             max_tokens: int, seed: int, trainer: dict, root_dir) -> None:
    """Train every weight of `backbone` in place on `texts`, one (task, steps) stage after the other."""
    docs = tokenize_docs(tokenizer, texts, max_tokens)
    optimizer = {"lr": lr, "decay_rate": -0.8, "scale_parameter": False, "relative_step": False,
                 "warmup_init": False, "clip_threshold": 1.0, "weight_decay": 0.0}
    for i, (task_name, steps) in enumerate(stages):
        if steps <= 0:
            continue
        print(f"[pretrain] {task_name}: {steps} steps on {len(docs)} documents", file=sys.stderr, flush=True)
        task = make_unsupervised_task(task_name, tokenizer, max_input_tokens=max_tokens + 1, max_target_tokens=max_tokens + 1)
        draws = Mixture([Generated(task_name, 1.0, docs, task)], total=steps * batch_size, seed=seed + i)
        build_trainer(trainer, max_steps=steps, root_dir=root_dir).fit(
            ModelTuning(backbone, optimizer), TrainData(draws, batch_size, tokenizer.pad_token_id))


def subprompt_mixture(tokenizer, texts: dict[str, list[str]], tasks: dict[str, dict], *, max_tokens: int,
                      total: int, seed: int) -> Mixture:
    """Factorized-prompt stage 1's draws: every (language, task) pair equally likely."""
    sources = []
    for task_name, params in tasks.items():
        task = make_unsupervised_task(task_name, tokenizer, max_input_tokens=max_tokens + 1,
                                      max_target_tokens=max_tokens + 1, **params)
        for lang, lang_texts in texts.items():
            sources.append(Generated(task_name, 1.0, tokenize_docs(tokenizer, lang_texts, max_tokens), task, lang))
    return Mixture(sources, total, seed)
