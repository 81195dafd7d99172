"""The backbone (xgen_cli/modeling/backbone.py): a sane first loss, and a save/load round trip."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from transformers import MT5ForConditionalGeneration

from xgen_cli.errors import XgenError
from xgen_cli.modeling.backbone import expected_initial_loss, load_backbone, new_tiny_mt5

VOCAB = 3000
SMALL = dict(d_model=64, d_ff=128, d_kv=16, num_heads=4, num_layers=2, num_decoder_layers=2)
TEXT = ["How to plant a tree. Dig a hole twice as wide as the root ball.",
        "Comment planter un arbre. Creusez un trou deux fois plus large."] * 20


def _first_loss(model, seed: int = 0) -> float:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(3, VOCAB, (4, 32), generator=g)
    labels = torch.randint(3, VOCAB, (4, 16), generator=g)
    with torch.no_grad():
        return model.eval()(input_ids=ids, labels=labels).loss.item()


@pytest.fixture(scope="module")
def fresh():
    return new_tiny_mt5(vocab_size=VOCAB, **SMALL)


def test_first_loss_is_near_uniform_guess(fresh):
    assert expected_initial_loss(VOCAB) == pytest.approx(8.006, abs=1e-3)  # ln(3000)
    assert abs(_first_loss(fresh) - expected_initial_loss(VOCAB)) < 1.0
    assert fresh.lm_head.weight.std().item() == pytest.approx(SMALL["d_model"] ** -0.5, rel=0.05)


def test_default_lm_head_init_starts_far_higher(fresh):
    """The contrast: transformers' own init of the untied lm_head (std 1.0) starts several times higher."""
    torch.manual_seed(0)
    default = MT5ForConditionalGeneration(fresh.config)
    assert default.lm_head.weight.std().item() == pytest.approx(1.0, rel=0.05)
    loss = _first_loss(default)
    assert loss > expected_initial_loss(VOCAB) + 10
    assert loss > 2 * _first_loss(fresh)


def test_new_tiny_mt5_config_and_seed():
    a = new_tiny_mt5(vocab_size=300, **SMALL, seed=1)
    b = new_tiny_mt5(vocab_size=300, **SMALL, seed=1)
    assert (a.config.pad_token_id, a.config.eos_token_id, a.config.decoder_start_token_id) == (0, 1, 0)
    for (k, v), (_, w) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert torch.equal(v, w), k


def test_output_layer_is_untied_like_mt5():
    """transformers 5's MT5Config forces tie_word_embeddings=True; new_tiny_mt5 unties the head anyway,
    and keeps the encoder and decoder on the one input embedding."""
    model = new_tiny_mt5(vocab_size=300, **SMALL)
    assert model.lm_head.weight.data_ptr() != model.shared.weight.data_ptr()
    assert model.shared.weight.std().item() == pytest.approx(1.0, rel=0.1)  # transformers' embedding init
    for stack in (model.encoder, model.decoder):
        assert stack.embed_tokens.weight.data_ptr() == model.shared.weight.data_ptr()
    assert model.config.tie_word_embeddings is False


def test_untied_head_survives_save_load_and_tie_weights(tmp_path, tokenizer):
    from safetensors.torch import load_file

    model = new_tiny_mt5(vocab_size=len(tokenizer), **SMALL, seed=2)
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    (tmp_path / "spiece.model").write_bytes((Path(tokenizer.name_or_path) / "spiece.model").read_bytes())
    saved = load_file(tmp_path / "model.safetensors")
    assert not torch.equal(saved["lm_head.weight"], saved["shared.weight"])
    loaded, _ = load_backbone(str(tmp_path))
    loaded.tie_weights()  # recomputes the tying from the config: must not tie the head back
    assert loaded.lm_head.weight.data_ptr() != loaded.shared.weight.data_ptr()
    assert torch.equal(loaded.lm_head.weight, saved["lm_head.weight"])
    assert loaded.encoder.embed_tokens.weight.data_ptr() == loaded.shared.weight.data_ptr()


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    sentencepiece = pytest.importorskip("sentencepiece")
    from transformers import T5Tokenizer

    folder = tmp_path_factory.mktemp("spm")
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(TEXT), model_prefix=str(folder / "spiece"), vocab_size=300, byte_fallback=True,
        character_coverage=1.0, pad_id=0, eos_id=1, unk_id=2, bos_id=-1, hard_vocab_limit=False, minloglevel=2,
    )
    return T5Tokenizer.from_pretrained(str(folder))


def test_save_and_load_round_trip(tmp_path, tokenizer):
    model = new_tiny_mt5(vocab_size=len(tokenizer), **SMALL, seed=3)
    model.save_pretrained(tmp_path)
    tokenizer.save_pretrained(tmp_path)
    # transformers 5's T5Tokenizer.save_pretrained writes tokenizer.json only, no spiece.model (which
    # backbone.spm_model_file needs for SP-ROUGE): a folder must get spiece.model some other way.

    loaded, loaded_tok = load_backbone(str(tmp_path))
    assert isinstance(loaded, MT5ForConditionalGeneration)
    assert next(loaded.parameters()).dtype == torch.float32
    ours, theirs = model.state_dict(), loaded.state_dict()
    assert ours.keys() == theirs.keys()
    for k in ours:
        assert torch.equal(ours[k], theirs[k]), k
    assert loaded.config.to_dict()["vocab_size"] == model.config.vocab_size

    text = "Dig a hole twice as wide. Creusez un trou — 木"
    assert loaded_tok(text).input_ids == tokenizer(text).input_ids
    assert loaded_tok.unk_token_id not in loaded_tok(TEXT[0]).input_ids
    assert len(loaded_tok) == len(tokenizer)
    assert loaded_tok.convert_tokens_to_ids("<extra_id_0>") == tokenizer.convert_tokens_to_ids("<extra_id_0>")


def test_missing_folder_is_a_one_line_xgen_error():
    with pytest.raises(XgenError) as info:
        load_backbone("/nonexistent/folder")
    message = str(info.value)
    assert "\n" not in message and "/nonexistent/folder" in message


def test_folder_without_spiece_model_is_an_xgen_error(tmp_path):
    new_tiny_mt5(vocab_size=300, **SMALL).save_pretrained(tmp_path)
    with pytest.raises(XgenError):
        load_backbone(str(tmp_path))


def test_the_readme_states_the_tiny_backbones_size():
    """The README's parameter count of model=tiny is the default build's (vocabulary + 100 sentinels)."""
    import re

    from conftest import REPO
    from omegaconf import OmegaConf

    build = OmegaConf.load(REPO / "conf" / "model" / "tiny.yaml").build
    model = new_tiny_mt5(vocab_size=build.vocab_size + 100, **build.architecture)
    stated = re.search(r"is a ([\d.]+)M-parameter MT5", (REPO / "README.md").read_text()).group(1)
    assert f"{sum(p.numel() for p in model.parameters()) / 1e6:.1f}" == stated
