"""Zero-shot evaluation: generate for each language, post-process, score, write the run files.

Callable on its own (`Evaluator.evaluate(module, step)`), from the training loop (`EvaluateEvery`,
a Lightning callback) and from `xgen eval`. Decoding follows paper.md: beam search, 4 beams, length
penalty 0.6, then the repeated-suffix post-processing.
"""

from __future__ import annotations

import contextlib
import sys
import time

import lightning as L
import torch

from xgen_cli.data.batching import IGNORE_INDEX, Collator, to_device
from xgen_cli.data.example import Example
from xgen_cli.data.tasks import Pair, TaggedPair, summarize
from xgen_cli.distributed import full_root_params, gather, is_sharded, rank_and_world, stop_requested
from xgen_cli.freed_memory import return_freed_memory
from xgen_cli.metrics import score_language
from xgen_cli.metrics.postprocess import remove_repeated_suffix
from xgen_cli.runs.run_dir import RunDir
from xgen_cli.runs.summary import METRIC_KEYS


def autocast(device: torch.device, bf16: bool):
    """bf16 autocast where asked (never fp16: mT5 overflows to NaN in fp16)."""
    if not bf16:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


class Evaluator:
    def __init__(self, examples: dict[str, list[Example]], tokenizer, sp_rouge, *, num_beams: int = 4,
                 length_penalty: float = 0.6, max_new_tokens: int = 512, batch_size: int = 16,
                 max_input_tokens: int = 1024, max_target_tokens: int = 512, bf16: bool = False,
                 compute_loss: bool = True, stage: str = "main", split: str = "validation",
                 sort_by_length: bool = True, max_tokens_per_pass: int | None = None):
        self.examples, self.tokenizer, self.sp_rouge = examples, tokenizer, sp_rouge
        self.generate_kwargs = {"num_beams": num_beams, "length_penalty": length_penalty,
                                "max_new_tokens": max_new_tokens, "early_stopping": True}
        self.batch_size, self.bf16, self.compute_loss = batch_size, bf16, compute_loss
        self.max_input_tokens, self.max_target_tokens = max_input_tokens, max_target_tokens
        self.stage, self.split = stage, split
        self.sort_by_length = sort_by_length  # False: data order, the baseline bench/eval_throughput.py measures
        self.max_tokens_per_pass = max_tokens_per_pass  # a batch's padded input tokens, at most (None: no bound)
        self.collate = Collator(tokenizer.pad_token_id)
        self._pairs: dict[str, list[Pair]] = {}  # per language, tokenized once for every evaluation

    def _tokenize(self, examples: list[Example]) -> list[Pair]:
        # Tagged with the language: factorized prompts swap in that language's sub-prompt.
        return [TaggedPair(*summarize(e, self.tokenizer, self.max_input_tokens, self.max_target_tokens), lang=e.lang)
                for e in examples]

    def _batches(self, pairs: list[Pair], lockstep: bool):
        """This process's batches of (indices, collated), sorted by input length so padding stays
        small, each of at most batch_size rows and max_tokens_per_pass padded input tokens. Several
        processes: every `world`-th example of that order (shares of alike lengths); in lockstep
        (FSDP: each forward is a collective) every rank runs as many batches, a rank short of one
        repeating its last (its outputs are dropped)."""
        rank, world = rank_and_world()
        order = list(range(len(pairs)))
        if self.sort_by_length:
            order.sort(key=lambda i: len(pairs[i].input_ids), reverse=True)
        batches = self._cut(pairs, order[rank::world])
        filler = batches[-1] if batches else order[:1]
        if lockstep:
            most = max(len(self._cut(pairs, order[r::world])) for r in range(world))
            batches += [[]] * (most - len(batches))
        for idx in batches:
            yield idx, self.collate([pairs[i] for i in idx or filler])

    def _cut(self, pairs: list[Pair], share: list[int]) -> list[list[int]]:
        """`share` in its order, cut into batches: a new one at batch_size rows or where one more row
        would pad the batch past max_tokens_per_pass."""
        batches, current, longest = [], [], 0
        for i in share:
            length = max(longest, len(pairs[i].input_ids))
            full = len(current) == self.batch_size or (
                self.max_tokens_per_pass is not None and (len(current) + 1) * length > self.max_tokens_per_pass)
            if current and full:
                batches.append(current)
                current, length = [], len(pairs[i].input_ids)
            current.append(i)
            longest = length
        return batches + [current] if current else batches

    @torch.no_grad()
    def predict(self, module, examples: list[Example], pairs: list[Pair] | None = None) -> tuple[list[str], float | None]:
        """Post-processed predictions in the examples' order, and the teacher-forced loss. Several
        processes decode a share each; the shares are gathered on every rank by the examples'
        positions, and each position must come exactly once."""
        mine: dict[int, str] = {}
        losses, device = [], module.device
        lockstep = rank_and_world()[1] > 1 and is_sharded(module)
        generate_kwargs = {**self.generate_kwargs, "synced_gpus": True} if lockstep else self.generate_kwargs
        with autocast(device, self.bf16):
            for idx, batch in self._batches(pairs or self._tokenize(examples), lockstep):
                batch = to_device(batch, device)
                loss = module.loss(batch).float().item() if self.compute_loss else None
                out = module.generate(batch["input_ids"], batch["attention_mask"], batch["lang"], **generate_kwargs)
                if not idx:  # a lockstep filler
                    continue
                if loss is not None:
                    # weighted by target tokens: the split's token mean, however its batches are cut
                    losses.append((loss, int((batch["labels"] != IGNORE_INDEX).sum())))
                texts = self.tokenizer.batch_decode(out, skip_special_tokens=True)
                mine.update({i: remove_repeated_suffix(t.strip()) for i, t in zip(idx, texts, strict=True)})
        shares = gather((mine, losses))
        by_position = {}
        for share, _ in shares:
            if by_position.keys() & share.keys():
                raise RuntimeError(f"examples {sorted(by_position.keys() & share.keys())} decoded by two processes")
            by_position.update(share)
        if by_position.keys() != set(range(len(examples))):
            raise RuntimeError(f"examples {sorted(set(range(len(examples))) - by_position.keys())} not decoded")
        losses = [pair for _, share_losses in shares for pair in share_losses]
        loss = sum(value * n for value, n in losses) / sum(n for _, n in losses) if losses else None
        return [by_position[i] for i in range(len(examples))], loss

    def evaluate(self, module, step: int, run: RunDir | None = None, langs: list[str] | None = None) -> list[dict]:
        """Metrics rows per language (logged to `run` with the predictions). Several processes: each
        must call it alike; rank 0 returns the rows, the others []."""
        was_training = module.training
        module.eval()
        rows = []
        try:
            for lang in langs or list(self.examples):
                start = time.perf_counter()
                examples = self.examples[lang]
                if lang not in self._pairs:
                    self._pairs[lang] = self._tokenize(examples)
                predictions, loss = self.predict(module, examples, self._pairs[lang])
                return_freed_memory()  # the beams' buffers of this language (xgen_cli/freed_memory.py)
                if rank_and_world()[0] != 0:  # rank 0 scores and writes the gathered predictions
                    continue
                row = {"step": step, "stage": self.stage, "split": self.split, "lang": lang}
                row.update(score_language(predictions, [e.summary for e in examples], lang, self.sp_rouge))
                row["loss"] = loss
                rows.append(row)
                if run is not None:
                    run.write_predictions(step, lang, prediction_rows(examples, predictions), split=self.split)
                    run.log_metrics(row)
                print(format_progress(row, time.perf_counter() - start), file=sys.stderr, flush=True)
        finally:
            module.train(was_training)
        return rows


def log_row(logger, row: dict) -> None:
    """A metrics row to the configured logger too (CSV, W&B) as `eval/<lang>/<metric>` at its step,
    so the logger's curves show what metrics.jsonl holds; metrics.jsonl stays the record."""
    if logger is None:
        return
    values = {f"eval/{row['lang']}/{key}": row[key] for key in (*METRIC_KEYS, "loss") if row.get(key) is not None}
    logger.log_metrics(values, step=row["step"])


def prediction_rows(examples: list[Example], predictions: list[str]) -> list[dict]:
    return [{"id": e.id, "prediction": p, "reference": e.summary} for e, p in zip(examples, predictions, strict=True)]


def format_progress(row: dict, seconds: float) -> str:
    loss = f" loss {row['loss']:.2f}" if row.get("loss") is not None else ""
    return (f"[eval step {row['step']}] {row['lang']}: n={row['n']} SP-RG {row['sp_rouge']:.1f} "
            f"LID_XX {row['lid_target']:.1f} LID_EN {row['lid_en']:.1f} ASCII {row['ascii']:.1f} "
            f"distinct {row['distinct']:.0f}% empty {row['empty']:.0f}%{loss} ({seconds:.1f}s)")


class EvaluateEvery(L.Callback):
    """Evaluate every `every` optimizer steps and once more at the end (paper: at each checkpoint).

    Resumable: a (step, language) already in the run's metrics.jsonl for this stage and split is
    not evaluated again. A stop signal (xgen_cli/interrupts.py) is honoured between languages, so
    the checkpoint is saved without waiting for the rest; the evaluation it cut short is finished
    when training resumes at that step. Evaluation draws no random numbers (beam search, dropout
    off), so skipping or finishing one leaves the training that follows unchanged.
    """

    def __init__(self, evaluator: Evaluator, every: int, run: RunDir | None):
        self.evaluator, self.every, self.run = evaluator, every, run
        self.logged: set[tuple[int, str]] = set()

    def setup(self, trainer, pl_module, stage) -> None:
        if self.run is not None:
            self.logged = {(r["step"], r["lang"]) for r in self.run.read_metrics()
                           if r.get("stage") == self.evaluator.stage and r.get("split") == self.evaluator.split}

    def _evaluate(self, trainer: L.Trainer, module, due: bool) -> None:
        step = trainer.global_step
        if not due:
            return
        # Every rank decodes a share (Evaluator.predict), so all must take the same languages, or
        # some would wait in a collective the others never enter: rank 0, which alone writes
        # metrics.jsonl, says which are due; a stop signal on any rank cuts the evaluation short on all.
        todo = trainer.strategy.broadcast([lang for lang in self.evaluator.examples if (step, lang) not in self.logged])
        for lang in todo:
            if stop_requested(trainer):
                return
            with full_root_params(trainer):
                rows = self.evaluator.evaluate(module, step, self.run, langs=[lang])
            for row in rows:
                log_row(trainer.logger, row)
            self.logged.add((step, lang))

    def _due(self, step: int) -> bool:
        return self.every > 0 and step > 0 and step % self.every == 0

    def on_train_start(self, trainer, pl_module) -> None:
        self._evaluate(trainer, pl_module, self._due(trainer.global_step))

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        self._evaluate(trainer, pl_module, self._due(trainer.global_step))

    def on_train_end(self, trainer, pl_module) -> None:
        self._evaluate(trainer, pl_module, True)
