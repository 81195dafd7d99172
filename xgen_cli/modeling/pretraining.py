"""Unsupervised (pre)training of a backbone on unlabeled text: span corruption, then prefix LM.

Used to build `model=tiny` and by `xgen pretrain` to LM-adapt a checkpoint (paper.md: prompt tuning
used mT5 LM-adapted by 100K extra prefix-LM steps). Runs the same ModelTuning module and Lightning
Trainer as `xgen train`.
"""

from __future__ import annotations

import functools
import sys

from xgen_cli.data.batching import TaskStream, TrainData
from xgen_cli.data.tasks import prefix_lm, sentinel_ids, span_corruption
from xgen_cli.modeling.methods.model import ModelTuning
from xgen_cli.training import build_trainer


def objective_tasks(name: str, tokenizer) -> dict:
    """{task name: (weight, fn(ids, rng) -> Pair)} for one pretraining objective."""
    eos = tokenizer.eos_token_id
    if name == "span_corruption":
        fn = functools.partial(span_corruption, sentinel_ids=sentinel_ids(tokenizer), eos_id=eos)
    elif name == "prefix_lm":
        fn = functools.partial(prefix_lm, eos_id=eos)
    else:
        raise ValueError(f"unknown pretraining objective {name!r}")
    return {name: (1.0, lambda ids, rng: fn(ids, rng=rng))}


def pretrain(backbone, tokenizer, texts: list[str], stages: list[tuple[str, int]], *, batch_size: int, lr: float,
             max_tokens: int, seed: int, trainer: dict, root_dir) -> None:
    """Train `backbone` in place on `texts`, one (objective, steps) stage after the other."""
    docs = [ids[:max_tokens] for ids in tokenizer(texts, add_special_tokens=False).input_ids if len(ids) > 1]
    optimizer = {"lr": lr, "decay_rate": -0.8, "scale_parameter": False, "relative_step": False,
                 "warmup_init": False, "clip_threshold": 1.0, "weight_decay": 0.0}
    for i, (objective, steps) in enumerate(stages):
        if steps <= 0:
            continue
        print(f"[pretrain] {objective}: {steps} steps on {len(docs)} documents", file=sys.stderr, flush=True)
        stream = TaskStream(docs, objective_tasks(objective, tokenizer), seed=seed + i)
        module = ModelTuning(backbone, optimizer)
        build_trainer(trainer, max_steps=steps, root_dir=root_dir).fit(
            module, TrainData(stream, batch_size, tokenizer.pad_token_id, seed + i))
