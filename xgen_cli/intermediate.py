"""INTERMEDIATE TUNING (paper.md, Remedies, appendix): tune on another task first, then on the main one.

`intermediate=lm` (IT-LM): the LM task (empty encoder input, the decoder writes the text) on
unlabeled text of the target languages; `intermediate=gigaword` (IT-GIGAWORD): English headline
generation. The stage evaluates its own teacher-forced validation loss every `eval_every` steps
(one metrics row per language, `stage: intermediate`, generation metrics null), keeps the checkpoint
best by that loss (`checkpoints/intermediate/best.ckpt`), and the main stage starts from it with a
fresh optimizer. Both stages write into one run directory; summary.json selects on the main stage.

Resumable like the main stage: the stage's checkpoints live in `checkpoints/intermediate/`, a
restarted run continues the stage from its latest one (a finished stage just reloads), and the
best-so-far is read back from the stage's metrics rows.
"""

from __future__ import annotations

import random
import sys

import lightning as L
import torch

from xgen_cli.checkpoints import StepCheckpoints, resume_stage
from xgen_cli.data.batching import Collator, TrainData, to_device
from xgen_cli.data.mixing import remedy_langs, tokenize_docs
from xgen_cli.data.mixture import Generated, Labelled, Mixture
from xgen_cli.data.tasks import Pair, TaggedPair, make_unsupervised_task, summarize
from xgen_cli.data.token_pairs import tokenize_pairs
from xgen_cli.errors import XgenError
from xgen_cli.evaluation import autocast
from xgen_cli.runs.run_dir import RunDir
from xgen_cli.runs.summary import METRIC_KEYS
from xgen_cli.training import build_trainer

STAGE = "intermediate"


class IntermediateStage:
    """Reads the stage's text at construction (before any backbone loads); `tune` runs the stage."""

    def __init__(self, spec: dict, *, corpus, unlabeled, eval_langs: list[str], train_lang: str):
        self.spec = spec
        if spec["name"] == "lm":
            langs = remedy_langs(spec["langs"], eval_langs=eval_langs, train_lang=train_lang, corpus=corpus,
                                 key="intermediate.langs")
            self.texts = {lang: unlabeled.unlabeled(lang) for lang in langs}
        elif spec["name"] == "gigaword":
            import hydra

            headlines = hydra.utils.instantiate(spec["corpus"])
            self.train_examples = headlines.examples("en", "train")
            self.validation_examples = headlines.examples("en", "validation", spec["validation_examples"])
        else:
            raise ValueError(f"unknown intermediate task {spec['name']!r}")

    def data(self, tokenizer, *, max_input_tokens: int, max_target_tokens: int, total: int, seed: int
             ) -> tuple[Mixture, dict[str, list[Pair]]]:
        """The stage's training draws and its validation pairs per language."""
        if self.spec["name"] == "gigaword":
            pairs = tokenize_pairs(self.train_examples, tokenizer, max_input_tokens, max_target_tokens)  # compact
            validation = [TaggedPair(*summarize(e, tokenizer, max_input_tokens, max_target_tokens), "gigaword", "en")
                          for e in self.validation_examples]
            return Mixture([Labelled("gigaword", 1.0, pairs, "en")], total, seed), {"en": validation}
        lm = make_unsupervised_task("lm", tokenizer, max_input_tokens=max_input_tokens, max_target_tokens=max_target_tokens)
        held_out = self.spec["validation_docs"]
        sources, validation = [], {}
        for lang, texts in self.texts.items():
            docs = tokenize_docs(tokenizer, texts, max_target_tokens)
            if len(docs) <= held_out:
                raise XgenError(f"intermediate=lm: {lang} has {len(docs)} unlabeled texts, not more than the "
                                f"{held_out} held out for validation: add text or lower intermediate.validation_docs")
            sources.append(Generated("lm", 1.0, docs[:-held_out], lm, lang))
            # The LM task draws nothing at random: the validation pairs are the same at every evaluation.
            validation[lang] = [TaggedPair(*lm(doc, random.Random(0)), "lm", lang) for doc in docs[-held_out:]]
        return Mixture(sources, total, seed), validation

    def tune(self, module, tokenizer, *, run: RunDir, trainer: dict, batch_size: int, accumulate_grad_batches: int,
             seed: int, max_input_tokens: int, max_target_tokens: int, bf16: bool) -> dict:
        """Train the stage, then load its best checkpoint into `module`; returns {best_step, best_loss}."""
        steps = self.spec["steps"]
        draws, validation = self.data(tokenizer, max_input_tokens=max_input_tokens, max_target_tokens=max_target_tokens,
                                      total=steps * batch_size * accumulate_grad_batches, seed=seed)
        print(f"[{STAGE}] {self.spec['name']}: {steps} steps", file=sys.stderr, flush=True)
        folder = run.checkpoints / STAGE
        tracker = BestValidationLoss(validation, self.spec["eval_every"], run, folder / "best.ckpt", batch_size, bf16,
                                     tokenizer.pad_token_id)
        build_trainer(trainer, max_steps=steps, root_dir=run.path,
                      callbacks=[tracker, StepCheckpoints(folder, self.spec["eval_every"], keep=1, stage=STAGE)],
                      accumulate_grad_batches=accumulate_grad_batches).fit(
            module, TrainData(draws, batch_size, tokenizer.pad_token_id), ckpt_path=resume_stage(run, STAGE, folder))
        state = torch.load(tracker.best_path, map_location="cpu", weights_only=True)
        module.load_state_dict(state["state_dict"], strict=module.checkpoint_keys() is None)
        print(f"[{STAGE}] best at step {tracker.best_step} (validation loss {tracker.best_loss:.3f}); "
              "the main stage starts from it", file=sys.stderr, flush=True)
        return {"task": self.spec["name"], "steps": steps, "best_step": tracker.best_step, "best_loss": tracker.best_loss,
                "draws": draws.counts()}


@torch.no_grad()
def validation_loss(module, pairs: list[Pair], batch_size: int, bf16: bool, pad_id: int) -> float:
    """Teacher-forced loss over `pairs`, weighted by batch size."""
    collate, total, count = Collator(pad_id), 0.0, 0
    with autocast(module.device, bf16):
        for start in range(0, len(pairs), batch_size):
            batch = collate(pairs[start : start + batch_size])
            batch = to_device(batch, module.device)
            n = len(batch["lang"])
            total += module.loss(batch).float().item() * n
            count += n
    return total / count


class BestValidationLoss(L.Callback):
    """Every `every` steps and at the end: the validation loss per language as metrics rows, and a
    checkpoint whenever the n-weighted mean over languages is the best so far."""

    def __init__(self, validation: dict[str, list[Pair]], every: int, run: RunDir, best_path, batch_size: int,
                 bf16: bool, pad_id: int):
        self.validation, self.every, self.run, self.best_path = validation, every, run, best_path
        self.batch_size, self.bf16, self.pad_id = batch_size, bf16, pad_id
        self.best_loss, self.best_step, self.done_steps = float("inf"), None, set()

    def setup(self, trainer, pl_module, stage) -> None:
        # A resumed stage: the steps already evaluated, and the best of them, from metrics.jsonl.
        by_step: dict[int, list[tuple[float, int]]] = {}
        for row in self.run.read_metrics():
            if row.get("stage") == STAGE and row.get("loss") is not None:
                by_step.setdefault(row["step"], []).append((row["loss"], row["n"]))
        self.done_steps = set(by_step)
        for step, losses in sorted(by_step.items()):
            mean = sum(loss * n for loss, n in losses) / sum(n for _, n in losses)
            if mean < self.best_loss:
                self.best_loss, self.best_step = mean, step

    def _evaluate(self, trainer: L.Trainer, module) -> None:
        step = trainer.global_step
        if step in self.done_steps:
            return
        self.done_steps.add(step)
        was_training = module.training
        module.eval()
        total = count = 0
        for lang, pairs in self.validation.items():
            loss = validation_loss(module, pairs, self.batch_size, self.bf16, self.pad_id)
            self.run.log_metrics({"step": step, "stage": STAGE, "split": "validation", "lang": lang, "n": len(pairs),
                                  **dict.fromkeys(METRIC_KEYS), "loss": loss})
            print(f"[{STAGE} step {step}] {lang}: n={len(pairs)} validation loss {loss:.3f}", file=sys.stderr, flush=True)
            total, count = total + loss * len(pairs), count + len(pairs)
        module.train(was_training)
        if total / count < self.best_loss:
            self.best_loss, self.best_step = total / count, step
            trainer.save_checkpoint(self.best_path)

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if trainer.global_step > 0 and trainer.global_step % self.every == 0:
            self._evaluate(trainer, pl_module)

    def on_train_end(self, trainer, pl_module) -> None:
        self._evaluate(trainer, pl_module)
