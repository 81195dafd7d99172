"""Checkpoints as the hub ships them (tests/published_checkpoints.py): mT5 loads untied through
`model=small model.name_or_path=<folder>`, and umT5 and mT0 train with every method through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf
from published_checkpoints import write_checkpoint
from transformers import MT5ForConditionalGeneration, UMT5ForConditionalGeneration

from xgen_cli.commands._app import CONF_DIR
from xgen_cli.errors import XgenError
from xgen_cli.modeling.backbone import load_backbone, load_tokenizer, spm_model_file
from xgen_cli.modeling.tiny import resolve_name_or_path

CLASSES = {"mt5": MT5ForConditionalGeneration, "umt5": UMT5ForConditionalGeneration, "mt0": MT5ForConditionalGeneration}


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("published")
    return {family: write_checkpoint(root / family, family) for family in CLASSES}


def _through_model_small(folder: Path):
    """The backbone as `xgen train model=small model.name_or_path=<folder>` loads it."""
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose("train", overrides=["model=small", f"model.name_or_path={folder}"])
    model = OmegaConf.to_container(cfg.model, resolve=True)
    return load_backbone(resolve_name_or_path(model, cfg.cache_dir, OmegaConf.to_container(cfg.trainer)))


@pytest.mark.parametrize("family", list(CLASSES))
def test_published_checkpoint_loads_untied_with_the_files_weights(checkpoints, family):
    from safetensors.torch import load_file

    folder = checkpoints[family]
    model, tokenizer = _through_model_small(folder)
    assert type(model) is CLASSES[family]
    saved = load_file(folder / "model.safetensors")
    assert "lm_head.weight" in saved and not torch.equal(saved["lm_head.weight"], saved["shared.weight"])
    assert model.lm_head.weight.data_ptr() != model.shared.weight.data_ptr()
    assert torch.equal(model.lm_head.weight, saved["lm_head.weight"])
    assert torch.equal(model.shared.weight, saved["shared.weight"])
    for stack in (model.encoder, model.decoder):  # the stacks read the one input embedding
        assert stack.embed_tokens.weight.data_ptr() == model.shared.weight.data_ptr()
    assert model.config.tie_word_embeddings is False
    assert len(tokenizer) == model.config.vocab_size
    assert tokenizer.convert_tokens_to_ids("<extra_id_0>") == len(tokenizer) - 1  # mT5's sentinels count down
    assert spm_model_file(str(folder)) == folder / "spiece.model"


def test_umt5_config_without_model_type_still_loads_as_umt5(checkpoints):
    """google/umt5-small's config.json names architectures but no model_type."""
    config = json.loads((checkpoints["umt5"] / "config.json").read_text())
    assert "model_type" not in config and config["architectures"] == ["UMT5ForConditionalGeneration"]
    model, _ = load_backbone(str(checkpoints["umt5"]))
    assert model.config.model_type == "umt5"
    # Per-layer position bias: every layer has its own relative_attention_bias, unlike mT5's first only.
    assert all(block.layer[0].SelfAttention.has_relative_attention_bias for block in model.encoder.block)


def test_an_unknown_architecture_is_one_line(tmp_path, checkpoints):
    config = json.loads((checkpoints["mt5"] / "config.json").read_text())
    config.update(model_type="bart", architectures=["BartForConditionalGeneration"])
    (tmp_path / "config.json").write_text(json.dumps(config))
    with pytest.raises(XgenError) as info:
        load_backbone(str(tmp_path))
    message = str(info.value)
    assert "\n" not in message and "'bart'" in message and "UMT5ForConditionalGeneration" in message


def test_untied_head_survives_a_save_pretrained_round_trip(tmp_path, checkpoints):
    model, tokenizer = load_backbone(str(checkpoints["umt5"]))
    model.save_pretrained(tmp_path)
    (tmp_path / "spiece.model").write_bytes((checkpoints["umt5"] / "spiece.model").read_bytes())
    again, _ = load_backbone(str(tmp_path))
    assert again.lm_head.weight.data_ptr() != again.shared.weight.data_ptr()
    assert torch.equal(again.lm_head.weight, model.lm_head.weight)
    assert again.config.scale_decoder_outputs is False  # untied umT5 does not rescale before the head


# A run of two steps on a slice of the demo corpus.
SHORT_RUN = ["steps=2", "eval_every=2", "batch_size=4", "data.eval_examples=2", "max_new_tokens=4", "eval.num_beams=1",
             "data.corpus.n_train=16", "data.eval_langs=[en,ru]", "logger=none", "trainer.precision=32-true"]
SETUPS = {
    "model": ["method=model"],
    "prompt": ["method=prompt"],
    "prompt+unsup": ["method=prompt", "mixing=unsup", "mixing.rate=0.5"],
    "model+it_lm": ["method=model", "intermediate=lm", "intermediate.steps=2", "intermediate.validation_docs=2"],
}


@pytest.mark.parametrize("setup", list(SETUPS))
@pytest.mark.parametrize("family", ["umt5", "mt0"])
def test_methods_train_on_the_family(xgen, checkpoints, tmp_path, family, setup):
    folder = checkpoints[family]
    xgen("train", "model=small", f"model.name_or_path={folder}", *SETUPS[setup], *SHORT_RUN, f"hydra.run.dir={tmp_path}")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == "done" and summary["training"]["backbone"] == str(folder)
    assert summary["langs"] == ["en", "ru"]
    if "mixing=unsup" in SETUPS[setup]:  # the span-corruption draws used the checkpoint's sentinels
        assert summary["training"]["draws"].get("span_corruption/ru", 0) > 0


@pytest.mark.parametrize("family", ["umt5", "mt0"])
def test_factorized_prompts_train_on_the_family(xgen, checkpoints, tmp_path, family):
    """Both stages: sub-prompts pretrained on the checkpoint (stage 1), then the task sub-prompt (stage 2)."""
    backbone = ["model=small", f"model.name_or_path={checkpoints[family]}", "trainer.precision=32-true"]
    xgen("pretrain", "objective=fp_prompts", "objective.steps=2", "objective.batch_size=4", "objective.lang_length=2",
         "objective.task_length=2", "objective.langs=[en,ru]", "objective.max_tokens=32", *backbone,
         f"hydra.run.dir={tmp_path}/stage1")
    xgen("train", "method=fp", f"method.stage1={tmp_path}/stage1", *backbone, *SHORT_RUN, f"hydra.run.dir={tmp_path}/run")
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["status"] == "done" and summary["identity"]["method"] == "fp"
    assert summary["langs"] == ["en", "ru"]


def test_umt5_vocabulary_layout_without_tokenizer_json_is_one_line(tmp_path):
    """umT5's published vocabulary puts <s> at 2 and <unk> at 3 (its tokenizer_config.json); transformers
    5 builds T5Tokenizer from spiece.model with <unk> at 2, so without tokenizer.json the load must stop."""
    import sentencepiece
    from published_checkpoints import _text

    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(_text()), model_prefix=str(tmp_path / "spiece"), vocab_size=300, character_coverage=1.0,
        pad_id=0, eos_id=1, bos_id=2, unk_id=3, hard_vocab_limit=False, minloglevel=2)
    with pytest.raises(XgenError) as info:
        load_tokenizer(str(tmp_path))
    message = str(info.value)
    assert "\n" not in message and "id 3" in message and "tokenizer.json" in message
