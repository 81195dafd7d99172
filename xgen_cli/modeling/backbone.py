"""Loading an mT5 backbone and its SentencePiece tokenizer, the one real path for every size.

`model=small..xxl` name a hub id (google/mt5-*); `model.name_or_path` may name any hub id or local
folder (an LM-adapted checkpoint, or the cached `model=tiny` that `xgen pretrain` builds). Every
backbone is read through `MT5ForConditionalGeneration.from_pretrained` and `T5Tokenizer.from_pretrained`
on a folder holding `spiece.model` (in transformers 5, `T5Tokenizer(vocab_file=...)` silently yields
an empty tokenizer).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from transformers import MT5Config, MT5ForConditionalGeneration, T5Tokenizer

from xgen_cli.errors import XgenError

SPM_FILE = "spiece.model"


def load_tokenizer(name_or_path: str) -> T5Tokenizer:
    folder = Path(name_or_path)
    if folder.is_dir() and not any((folder / f).is_file() for f in (SPM_FILE, "tokenizer.json")):
        # transformers would return a tokenizer that maps every word to <unk>.
        raise XgenError(f"{folder} holds no tokenizer ({SPM_FILE} or tokenizer.json): save the tokenizer there")
    try:
        return T5Tokenizer.from_pretrained(name_or_path)
    except OSError as exc:
        raise XgenError(
            f"cannot load a tokenizer from {name_or_path!r} ({exc.__class__.__name__}): give a local folder "
            f"holding {SPM_FILE}, or a hub id on a machine with hub access"
        ) from exc


def load_model(name_or_path: str) -> MT5ForConditionalGeneration:
    """The model in fp32 (mixed precision is the trainer's job)."""
    try:
        return MT5ForConditionalGeneration.from_pretrained(name_or_path, dtype=torch.float32)
    except OSError as exc:
        raise XgenError(
            f"cannot load an mT5 backbone from {name_or_path!r} ({exc.__class__.__name__}): check "
            "model.name_or_path (a local folder from save_pretrained, or a hub id with hub access)"
        ) from exc


def load_backbone(name_or_path: str) -> tuple[MT5ForConditionalGeneration, T5Tokenizer]:
    """The model in fp32 and its tokenizer."""
    return load_model(name_or_path), load_tokenizer(name_or_path)


def spm_model_file(name_or_path: str) -> Path:
    """The backbone's own SentencePiece model, which SP-ROUGE tokenizes with (paper.md, Metrics)."""
    local = Path(name_or_path) / SPM_FILE
    if local.is_file():
        return local
    if Path(name_or_path).exists():
        raise XgenError(f"{name_or_path} holds no {SPM_FILE}: SP-ROUGE needs the backbone's SentencePiece model")
    from huggingface_hub import hf_hub_download

    try:
        return Path(hf_hub_download(name_or_path, SPM_FILE))
    except Exception as exc:  # offline, unknown repo, ...: all mean the same to the user
        raise XgenError(
            f"cannot fetch {SPM_FILE} of {name_or_path!r} ({exc.__class__.__name__}): set "
            "metrics.spm_model to a local SentencePiece model file"
        ) from exc


def new_tiny_mt5(vocab_size: int, d_model: int, d_ff: int, d_kv: int, num_heads: int, num_layers: int,
                 num_decoder_layers: int, dropout_rate: float = 0.0, seed: int = 0) -> MT5ForConditionalGeneration:
    """A freshly initialised small MT5 (a few million parameters) for the CPU demo and tests.

    transformers 5's MT5Config always ties the output layer to the input embeddings (real mT5 is
    untied); the tied head is rescaled by d_model^-0.5 inside the model. transformers' default init
    of an untied output layer (std 1.0) starts the loss near 76 for an
    8k vocabulary instead of about ln(vocab) = 9; std d_model^-0.5 brings it to ln(vocab) (measured).
    """
    config = MT5Config(
        vocab_size=vocab_size, d_model=d_model, d_ff=d_ff, d_kv=d_kv, num_heads=num_heads,
        num_layers=num_layers, num_decoder_layers=num_decoder_layers, dropout_rate=dropout_rate,
        tie_word_embeddings=False, decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
    )
    torch.manual_seed(seed)
    model = MT5ForConditionalGeneration(config)
    torch.nn.init.normal_(model.lm_head.weight, std=d_model**-0.5)
    return model


def expected_initial_loss(vocab_size: int) -> float:
    """Cross-entropy of a uniform guess: what a fresh backbone's first loss should be near."""
    return math.log(vocab_size)
