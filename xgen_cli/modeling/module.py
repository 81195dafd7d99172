"""The LightningModule every method shares: loss, generation, optimizer, checkpoint state.

A method (`method=<name>`, module `xgen_cli.modeling.methods.<name>`) subclasses `Seq2SeqModule`
and says only what differs: which parameters train (`trainable_parameters`), how the encoder input
is embedded (`encoder_inputs`), and which weights a checkpoint must hold (`checkpoint_keys`).
"""

from __future__ import annotations

import random

import lightning as L
import numpy as np
import torch
from transformers.optimization import Adafactor

from xgen_cli.data.batching import IGNORE_INDEX, pass_groups, row_lengths, rows_of
from xgen_cli.distributed import token_weight

# `method.frozen_dtype` of the prompt methods: how the frozen backbone is stored.
FROZEN_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


class Seq2SeqModule(L.LightningModule):
    # `max_tokens_per_pass` (conf/train.yaml): a batch of more padded tokens is trained in several
    # forward passes whose gradients add up to the whole batch's; None: one pass.
    max_tokens_per_pass: int | None = None
    _zeroed_by_passes = False  # set by a step whose passes zeroed the gradients themselves

    def __init__(self, backbone, optimizer: dict):
        super().__init__()
        self.backbone = backbone.train()  # from_pretrained returns eval mode; dropout belongs to training
        self.optimizer_kwargs = dict(optimizer)

    # --- what a method overrides -------------------------------------------------------------
    def trainable_parameters(self) -> list[torch.nn.Parameter]:
        raise NotImplementedError

    def encoder_inputs(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                       langs: list[str | None] | None = None, tasks: list[str | None] | None = None) -> dict:
        """Keyword arguments for the backbone's encoder side (ids, or embeddings with a prompt).

        `langs` / `tasks` tag each row with the language and task that made it (factorized prompts
        choose their sub-prompts by them); other methods ignore them.
        """
        return {"input_ids": input_ids, "attention_mask": attention_mask}

    def checkpoint_keys(self) -> set[str] | None:
        """state_dict keys a checkpoint keeps; None keeps all."""
        return None

    # --- shared ---------------------------------------------------------------------------------
    def freeze_backbone(self, dtype: str = "float32") -> None:
        """For the methods that train a prompt only: no gradients, no optimizer state for the
        backbone. `bfloat16` also stores it in bf16, half its memory (the choice for XL/XXL prompt
        tuning on one GPU); the encoder and decoder then compute in bf16 throughout, so numbers
        differ slightly from fp32 weights under bf16 autocast. The prompt stays fp32."""
        self.backbone.requires_grad_(False)
        if dtype not in FROZEN_DTYPES:
            raise ValueError(f"frozen_dtype={dtype!r} is not one of {', '.join(FROZEN_DTYPES)}")
        self.backbone.to(FROZEN_DTYPES[dtype])

    def loss(self, batch: dict) -> torch.Tensor:
        inputs = self.encoder_inputs(batch["input_ids"], batch["attention_mask"], batch.get("lang"), batch.get("task"))
        # No decoder cache in training: it would only cost memory, and a block recomputed under
        # activation checkpointing (trainer=fsdp) would find its cross-attention cache filled by
        # the first forward and save fewer tensors than that forward did.
        out = self.backbone(**inputs, labels=batch["labels"], use_cache=False)
        return out.loss

    def training_step(self, batch: dict, batch_idx: int) -> torch.Tensor:
        # Several processes: the step one process would take on the whole global batch.
        weight = token_weight(batch["labels"])
        # Unbounded, no lengths are read: on a GPU that would wait for the device every step.
        groups = pass_groups(row_lengths(batch), self.max_tokens_per_pass) if self.max_tokens_per_pass else [None]
        if len(groups) == 1:
            loss = self.loss(batch)
        else:
            loss = self._loss_in_passes(batch, batch_idx, groups, weight)
        self.log("train/loss", loss.detach(), prog_bar=True, batch_size=batch["input_ids"].shape[0])
        return loss * weight

    def _loss_in_passes(self, batch: dict, batch_idx: int, groups: list[list[int]], weight) -> torch.Tensor:
        """The batch's mean token loss, each pass weighted by its share of the batch's target tokens.
        All passes but the last are backpropagated here, so their activations are freed before the
        next pass; Lightning backpropagates the returned last pass (divided by the accumulation
        count, as it divides the returned loss). The value returned is the last pass's part, with
        the earlier parts added as constants: the whole batch's loss, for logging."""
        accumulate = self.trainer.accumulate_grad_batches
        if batch_idx % accumulate == 0:  # the first batch of a step: Lightning would zero after this step
            self.optimizers().zero_grad()
            self._zeroed_by_passes = True
        tokens = (batch["labels"] != IGNORE_INDEX).sum()
        done = torch.zeros((), device=batch["labels"].device)
        for idx in groups[:-1]:
            part = self._token_share_loss(rows_of(batch, idx), tokens)
            (part * weight / accumulate).backward()
            done = done + part.detach()
        return self._token_share_loss(rows_of(batch, groups[-1]), tokens) + done

    def _token_share_loss(self, rows: dict, tokens: torch.Tensor) -> torch.Tensor:
        return self.loss(rows) * (rows["labels"] != IGNORE_INDEX).sum() / tokens

    def optimizer_zero_grad(self, epoch: int, batch_idx: int, optimizer) -> None:
        # Lightning zeroes the gradients between training_step and its backward of the first batch
        # of a step, which would drop the passes training_step has backpropagated already.
        if not self._zeroed_by_passes:
            optimizer.zero_grad()
        self._zeroed_by_passes = False

    @torch.no_grad()
    def generate(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, langs: list[str | None] | None = None,
                 **generate_kwargs) -> torch.Tensor:
        return self.backbone.generate(**self.encoder_inputs(input_ids, attention_mask, langs), **generate_kwargs)

    def configure_optimizers(self):
        # transformers' Adafactor; decay_rate -0.8 there is the paper's "decay rate 0.8" (beta2_t = 1 - t^-0.8).
        return Adafactor(self.trainable_parameters(), **self.optimizer_kwargs)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        keep = self.checkpoint_keys()
        if keep is not None:
            checkpoint["state_dict"] = {k: v for k, v in checkpoint["state_dict"].items() if k in keep}
        # RNG state, so a resumed run draws the same dropout masks as an uninterrupted one (the
        # batches' order is the data loader's own state: xgen_cli/data/resumable.py). Stored as
        # tensors and plain values so `torch.load(weights_only=True)` can read it back.
        kind, keys, pos, has_gauss, gauss = np.random.get_state()
        checkpoint["xgen_rng"] = {"python": random.getstate(), "torch": torch.get_rng_state(),
                                  "numpy": [kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss]}
        if torch.cuda.is_available() and torch.cuda.is_initialized():
            checkpoint["xgen_rng"]["cuda"] = torch.cuda.get_rng_state_all()  # dropout on GPU draws from these

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        # Lightning calls this while restoring, before the fit loop starts: no training draw comes
        # between the restored state and the first resumed step (Lightning's own sanity check runs
        # under isolate_rng, and the data loader draws from its own generator).
        rng = checkpoint.get("xgen_rng")
        if rng:
            version, state, gauss = rng["python"]
            random.setstate((version, tuple(state), gauss))
            kind, keys, pos, has_gauss, cached = rng["numpy"]
            np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
            torch.set_rng_state(rng["torch"])
            cuda = rng.get("cuda")
            if cuda and torch.cuda.is_available() and len(cuda) == torch.cuda.device_count():
                torch.cuda.set_rng_state_all(cuda)
