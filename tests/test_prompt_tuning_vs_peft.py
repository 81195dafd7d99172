"""PROMPT TUNING (paper.md, Methods) checked against PEFT's prompt tuning as the reference.

PEFT (tests only) with task_type SEQ_2_SEQ_LM defaults to num_transformer_submodules=2, which also
prepends virtual tokens to the *decoder* input. The paper prepends to the encoder only, so the
reference here uses num_transformer_submodules=1, which PEFT 0.21 honours: the prompt goes before the
encoder's input embeddings, the encoder mask gets ones, and labels/decoder inputs are untouched.
"""

from __future__ import annotations

import copy

import pytest
import torch

from xgen_cli.modeling.backbone import new_tiny_mt5
from xgen_cli.modeling.methods import prompt as prompt_method
from xgen_cli.modeling.soft_prompt import sampled_vocab_init

peft = pytest.importorskip("peft")

TINY = dict(vocab_size=300, d_model=32, d_ff=64, d_kv=8, num_heads=4, num_layers=2, num_decoder_layers=2)
LENGTH = 5
# conf/method/prompt.yaml's optimizer (transformers' Adafactor refuses a manual lr with relative_step=True).
ADAFACTOR = dict(lr=0.3, decay_rate=-0.8, scale_parameter=False, relative_step=False, warmup_init=False,
                 clip_threshold=1.0, weight_decay=1e-5)


@pytest.fixture(scope="module")
def tiny():
    return new_tiny_mt5(**TINY).eval()


def _build(backbone, init="uniform", seed=0, optimizer=None):
    return prompt_method.build(backbone, tokenizer=None, optimizer=optimizer or {"lr": 0.3},
                               prompt_length=LENGTH, init=init, seed=seed)


def _batch():
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(3, TINY["vocab_size"], (3, 9), generator=g)
    mask = torch.ones_like(ids)
    for row, n in enumerate((9, 6, 3)):  # right padding, as the collator produces
        ids[row, n - 1] = 1  # EOS
        ids[row, n:] = 0
        mask[row, n:] = 0
    labels = torch.randint(3, TINY["vocab_size"], (3, 5), generator=g)
    labels[1, 3:] = -100
    labels[2, 2:] = -100
    return ids, mask, labels


@pytest.fixture(scope="module")
def pair(tiny):
    """xgen's module and a PEFT model on an identical copy of the backbone, sharing the prompt."""
    module = _build(copy.deepcopy(tiny)).eval()
    config = peft.PromptTuningConfig(task_type=peft.TaskType.SEQ_2_SEQ_LM, num_virtual_tokens=LENGTH,
                                     num_transformer_submodules=1)
    reference = peft.get_peft_model(copy.deepcopy(tiny), config).eval()
    assert reference.peft_config["default"].num_transformer_submodules == 1
    embedding = reference.prompt_encoder["default"].embedding.weight
    assert embedding.shape == (LENGTH, TINY["d_model"])  # encoder-only: L rows, not 2L
    with torch.no_grad():
        embedding.copy_(module.prompt.vectors(("task",)))
    return module, reference


def test_forward_logits_match_peft(pair):
    module, reference = pair
    ids, mask, labels = _batch()
    with torch.no_grad():
        ours = module.backbone(**module.encoder_inputs(ids, mask), labels=labels)
        theirs = reference(input_ids=ids, attention_mask=mask, labels=labels)
    assert ours.logits.shape == (3, labels.shape[1], TINY["vocab_size"])
    torch.testing.assert_close(ours.logits, theirs.logits, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(ours.loss, theirs.loss, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(module.loss({"input_ids": ids, "attention_mask": mask, "labels": labels}),
                               theirs.loss, rtol=1e-5, atol=1e-6)


def test_prompt_changes_the_output(pair, tiny):
    """Guard against a vacuous match: the prompt really reaches the encoder."""
    module, _ = pair
    ids, mask, labels = _batch()
    with torch.no_grad():
        ours = module.backbone(**module.encoder_inputs(ids, mask), labels=labels).logits
        plain = tiny(input_ids=ids, attention_mask=mask, labels=labels).logits
    assert (ours - plain).abs().max() > 1e-3


def test_generate_matches_peft(pair):
    module, reference = pair
    ids, mask, _ = _batch()
    ours = module.generate(ids, mask, num_beams=2, max_new_tokens=8)
    with torch.no_grad():
        theirs = reference.generate(input_ids=ids, attention_mask=mask, num_beams=2, max_new_tokens=8)
    # Encoder-decoder: both return decoder ids only (start token first), no prompt positions.
    assert ours.shape[0] == 3 and ours.shape[1] <= 9
    assert (ours[:, 0] == module.backbone.config.decoder_start_token_id).all()
    assert torch.equal(ours, theirs)


def test_backbone_frozen_and_only_prompt_trainable(tiny):
    module = _build(copy.deepcopy(tiny))
    assert not any(p.requires_grad for p in module.backbone.parameters())
    trainable = module.trainable_parameters()
    assert len(trainable) == 1 and trainable[0] is module.prompt.parts["task"]
    assert trainable[0].requires_grad and trainable[0].shape == (LENGTH, TINY["d_model"])
    assert [n for n, p in module.named_parameters() if p.requires_grad] == ["prompt.parts.task"]


def test_one_optimizer_step_touches_only_the_prompt(tiny):
    module = _build(copy.deepcopy(tiny), optimizer=ADAFACTOR)
    backbone_before = {k: v.clone() for k, v in module.backbone.state_dict().items()}
    prompt_before = module.prompt.parts["task"].detach().clone()
    optimizer = module.configure_optimizers()
    ids, mask, labels = _batch()
    module.train()
    module.loss({"input_ids": ids, "attention_mask": mask, "labels": labels}).backward()
    optimizer.step()
    prompt = module.prompt.parts["task"]
    assert set(optimizer.state) == {prompt}
    assert all(p.grad is None for p in module.backbone.parameters())
    assert not torch.equal(prompt.detach(), prompt_before)
    for k, v in module.backbone.state_dict().items():
        assert torch.equal(v, backbone_before[k]), k


def test_checkpoint_keeps_only_the_prompt(tiny):
    module = _build(copy.deepcopy(tiny))
    ckpt = {"state_dict": module.state_dict()}
    module.on_save_checkpoint(ckpt)
    assert set(ckpt["state_dict"]) == {"prompt.parts.task"}
    kept = sum(v.numel() for v in ckpt["state_dict"].values())
    backbone = sum(p.numel() for p in module.backbone.parameters())
    assert kept == LENGTH * TINY["d_model"]
    assert kept * 100 < backbone
    # ... and it loads back into a fresh module without the backbone's weights.
    fresh = _build(copy.deepcopy(tiny), seed=7)
    result = fresh.load_state_dict(ckpt["state_dict"], strict=False)
    assert result.unexpected_keys == []
    assert torch.equal(fresh.prompt.parts["task"], module.prompt.parts["task"])


def test_sampled_vocab_rows_are_distinct_embedding_rows(tiny):
    module = _build(copy.deepcopy(tiny), init="sampled_vocab")
    table = module.backbone.get_input_embeddings().weight
    rows = module.prompt.parts["task"].detach()
    matches = [torch.nonzero((table == row).all(dim=1)).flatten().tolist() for row in rows]
    assert all(len(m) == 1 for m in matches), matches  # every row is one embedding row
    indices = [m[0] for m in matches]
    assert len(set(indices)) == LENGTH


def test_sampled_vocab_draws_from_first_5000_rows():
    table = torch.arange(8000, dtype=torch.float32).unsqueeze(1).repeat(1, 2)  # row i holds i
    seen = set()
    for seed in range(20):
        rows = sampled_vocab_init(table, 100, torch.Generator().manual_seed(seed))
        idx = rows[:, 0].long().tolist()
        assert len(set(idx)) == 100 and max(idx) < 5000
        seen.update(idx)
    assert max(seen) > 4500  # the whole pool is used, not a prefix of it
    with pytest.raises(ValueError):
        sampled_vocab_init(table[:10], 11, torch.Generator().manual_seed(0))


@pytest.mark.parametrize("init", ["uniform", "sampled_vocab"])
def test_seed_reproduces_the_prompt(tiny, init):
    a = _build(copy.deepcopy(tiny), init=init, seed=3).prompt.parts["task"]
    b = _build(copy.deepcopy(tiny), init=init, seed=3).prompt.parts["task"]
    c = _build(copy.deepcopy(tiny), init=init, seed=4).prompt.parts["task"]
    assert torch.equal(a, b)
    assert not torch.equal(a, c)


def test_uniform_init_scale(tiny):
    rows = _build(copy.deepcopy(tiny), init="uniform").prompt.parts["task"].detach()
    assert rows.abs().max() <= 0.5 and rows.abs().max() > 0.25


def test_text_init_repeats_the_text_embeddings(tiny, tmp_path):
    sentencepiece = pytest.importorskip("sentencepiece")
    from transformers import T5Tokenizer

    text = ["summarize the article", "write a short summary of the text", "the steps of the guide"] * 30
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(text), model_prefix=str(tmp_path / "spiece"), vocab_size=TINY["vocab_size"] - 100,
        pad_id=0, eos_id=1, unk_id=2, bos_id=-1, hard_vocab_limit=False, minloglevel=2)
    tokenizer = T5Tokenizer.from_pretrained(str(tmp_path))
    ids = tokenizer("summarize", add_special_tokens=False).input_ids
    assert 1 < len(ids) < LENGTH and tokenizer.eos_token_id not in ids  # repeated, without </s>
    module = prompt_method.build(copy.deepcopy(tiny), tokenizer, {"lr": 0.3}, prompt_length=LENGTH,
                                 init="text", init_text="summarize")
    table = module.backbone.get_input_embeddings().weight
    repeated = (ids * LENGTH)[:LENGTH]
    torch.testing.assert_close(module.prompt.parts["task"], table[repeated], rtol=0, atol=0)
