"""`method.frozen_dtype=bfloat16`: the prompt methods store their frozen backbone in bf16 (half its
memory: bench/training.py measures the peak), train an fp32 prompt, checkpoint the prompt alone,
and land close to the fp32-stored backbone under bf16 autocast."""

from __future__ import annotations

import copy

import pytest
import torch
from one_step import TINY, fixed_batch

from xgen_cli.modeling.backbone import new_tiny_mt5
from xgen_cli.modeling.methods import prompt as prompt_method


def test_a_bf16_backbone_trains_an_fp32_prompt_close_to_the_fp32_backbone():
    torch.manual_seed(0)
    backbone = new_tiny_mt5(**TINY)
    modules = {dtype: prompt_method.build(copy.deepcopy(backbone), None, {"lr": 0.3}, prompt_length=4, frozen_dtype=dtype)
               for dtype in ("float32", "bfloat16")}
    half = modules["bfloat16"]
    assert {p.dtype for p in half.backbone.parameters()} == {torch.bfloat16}
    assert not any(p.requires_grad for p in half.backbone.parameters())
    assert [p.dtype for p in half.trainable_parameters()] == [torch.float32]
    torch.testing.assert_close(half.prompt.parts["task"], modules["float32"].prompt.parts["task"])  # same start
    losses, grads = {}, {}
    for dtype, module in modules.items():
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = module.loss(fixed_batch(4))
        loss.backward()
        losses[dtype], grads[dtype] = loss.item(), module.prompt.parts["task"].grad
    assert grads["bfloat16"].dtype == torch.float32
    assert losses["bfloat16"] == pytest.approx(losses["float32"], rel=0.02)
    cosine = torch.nn.functional.cosine_similarity(grads["bfloat16"].flatten(), grads["float32"].flatten(), dim=0)
    assert cosine > 0.95
    assert set(half.state_dict()) >= {"prompt.parts.task"}
    checkpoint = {"state_dict": half.state_dict()}
    half.on_save_checkpoint(checkpoint)
    assert list(checkpoint["state_dict"]) == ["prompt.parts.task"]  # kilobytes: the backbone is not saved
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):  # generation runs on the bf16 backbone
        out = half.generate(fixed_batch(4)["input_ids"], fixed_batch(4)["attention_mask"], max_new_tokens=3, num_beams=2)
    assert out.shape[0] == 4


def test_an_unknown_frozen_dtype_is_refused():
    with pytest.raises(ValueError, match="frozen_dtype='float16' is not one of float32, bfloat16"):
        prompt_method.build(new_tiny_mt5(**TINY), None, {"lr": 0.3}, prompt_length=4, frozen_dtype="float16")


def test_the_config_check_names_the_choices_and_refuses_fsdp():
    from hydra import compose, initialize_config_dir

    from xgen_cli.commands._app import CONF_DIR
    from xgen_cli.config_checks import train_problems

    def problems(*overrides):
        with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
            return [p for p in train_problems(compose("train", overrides=["method=prompt", *overrides]))
                    if "frozen_dtype" in p]

    assert problems("method.frozen_dtype=bfloat16") == []
    assert problems("method.frozen_dtype=float16") == ["method.frozen_dtype=float16 is not one of float32, bfloat16"]
    assert problems("method.frozen_dtype=bfloat16", "trainer=fsdp")[0].startswith(
        "method.frozen_dtype=bfloat16 with trainer=fsdp: FSDP shards a uniform dtype")
