"""`trainer=fsdp trainer.strategy.activation_checkpointing=true` wraps each mT5 block the way
Lightning's FSDPStrategy does (torch's non-reentrant checkpoint wrapper). Lightning refuses FSDP on
a CPU, so the wrapper is applied here directly: the recomputed forward must save the same tensors as
the first one (the decoder's cross-attention cache once made it differ: "a different number of
tensors was saved", seen on a GPU), and the gradients must equal the unwrapped step's."""

from __future__ import annotations

import copy
import functools

import pytest
import torch
from one_step import TINY, fixed_batch
from torch.distributed.algorithms._checkpoint.checkpoint_wrapper import (
    CheckpointImpl,
    apply_activation_checkpointing,
    checkpoint_wrapper,
)
from transformers.models.mt5.modeling_mt5 import MT5Block

from xgen_cli.modeling.backbone import new_tiny_mt5
from xgen_cli.modeling.methods import model as model_method
from xgen_cli.modeling.methods import prompt as prompt_method


@pytest.mark.parametrize("method", ["model", "prompt"])
def test_checkpointed_blocks_give_the_plain_steps_gradients(method):
    torch.manual_seed(0)
    backbone = new_tiny_mt5(**TINY)
    build = (lambda b: model_method.build(b, None, {"lr": 1e-3})) if method == "model" else \
        (lambda b: prompt_method.build(b, None, {"lr": 0.3}, prompt_length=4))
    plain = build(copy.deepcopy(backbone))
    wrapped = copy.deepcopy(plain)
    apply_activation_checkpointing(
        wrapped, check_fn=lambda m: isinstance(m, MT5Block),
        checkpoint_wrapper_fn=functools.partial(checkpoint_wrapper, checkpoint_impl=CheckpointImpl.NO_REENTRANT))
    assert any("checkpoint_wrapped_module" in name for name, _ in wrapped.named_modules())
    grads = []
    for module in (plain, wrapped):
        module.loss(fixed_batch(3)).backward()
        grads.append([p.grad for p in module.trainable_parameters()])
    assert all(g is not None for g in grads[1])
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b)
