"""Loading a backbone (mT5, mT0 or umT5) and its SentencePiece tokenizer, the one real path for every size.

`model=small..xxl` name a hub id (google/mt5-*), `model=mt0_*` bigscience/mt0-* (mT5 weights, instruction
tuned) and `model=umt5_*` google/umt5-* (per-layer position bias, its own vocabulary); `model.name_or_path`
may name any hub id or local folder (an LM-adapted checkpoint, or the cached `model=tiny` that `xgen
pretrain` builds). The class comes from the checkpoint's config.json (`model_type`, else `architectures`:
google/umt5-small's config.json names no model_type). The tokenizer is read with
`T5Tokenizer.from_pretrained` on a folder holding `spiece.model` (in transformers 5,
`T5Tokenizer(vocab_file=...)` silently yields an empty tokenizer).

Tying: every published mT5/mT0/umT5 checkpoint is untied (`"tie_word_embeddings": false`, an `lm_head`
of its own), but transformers 5's MT5Config and UMT5Config force `tie_word_embeddings=True` in
`__post_init__`, whatever the argument. A checkpoint whose file holds both tensors still loads untied
(transformers declines to tie tensors that differ); `new_untied` builds a fresh model untied.
"""

from __future__ import annotations

import logging
import math
from contextlib import contextmanager
from pathlib import Path

import torch
from transformers import (
    MT5Config,
    MT5ForConditionalGeneration,
    PreTrainedConfig,
    PreTrainedModel,
    T5Tokenizer,
    UMT5ForConditionalGeneration,
)

from xgen_cli.errors import XgenError

SPM_FILE = "spiece.model"
# config.json's model_type -> the class; mT0 is model_type "mt5".
FAMILIES: dict[str, type[PreTrainedModel]] = {"mt5": MT5ForConditionalGeneration, "umt5": UMT5ForConditionalGeneration}
_ARCHITECTURES = {cls.__name__: model_type for model_type, cls in FAMILIES.items()}


def load_tokenizer(name_or_path: str) -> T5Tokenizer:
    folder = Path(name_or_path)
    if folder.is_dir() and not any((folder / f).is_file() for f in (SPM_FILE, "tokenizer.json")):
        # transformers would return a tokenizer that maps every word to <unk>.
        raise XgenError(f"{folder} holds no tokenizer ({SPM_FILE} or tokenizer.json): save the tokenizer there")
    try:
        tokenizer = T5Tokenizer.from_pretrained(name_or_path)
    except OSError as exc:
        raise XgenError(
            f"cannot load a tokenizer from {name_or_path!r} ({exc.__class__.__name__}): give a local folder "
            f"holding {SPM_FILE}, or a hub id on a machine with hub access"
        ) from exc
    if (folder / SPM_FILE).is_file() and not (folder / "tokenizer.json").is_file():
        _check_unk(tokenizer, folder / SPM_FILE)
    return tokenizer


def _check_unk(tokenizer: T5Tokenizer, spm_file: Path) -> None:
    """transformers 5 builds T5Tokenizer from spiece.model with <unk> at id 2 (mT5's layout); umT5's
    published vocabulary has <s> at 2 and <unk> at 3 (its tokenizer_config.json), so unknown text would
    read as <s>. transformers reads such a checkpoint from its tokenizer.json instead."""
    import json

    import sentencepiece

    unk = sentencepiece.SentencePieceProcessor(model_file=str(spm_file)).unk_id()
    built = json.loads(tokenizer.backend_tokenizer.to_str())["model"].get("unk_id")
    if built != unk:
        raise XgenError(f"{spm_file} has <unk> at id {unk}, the tokenizer transformers builds from it at {built}: "
                        "put the checkpoint's tokenizer.json beside it")


def family(name_or_path: str) -> str:
    """The checkpoint's model_type ("mt5" or "umt5"), read from its config.json."""
    try:
        config, _ = PreTrainedConfig.get_config_dict(name_or_path)
    except OSError as exc:
        raise XgenError(
            f"cannot read the config.json of {name_or_path!r} ({exc.__class__.__name__}): check "
            "model.name_or_path (a local folder from save_pretrained, or a hub id with hub access)"
        ) from exc
    model_type = config.get("model_type") or next(
        (_ARCHITECTURES[a] for a in config.get("architectures") or [] if a in _ARCHITECTURES), None)
    if model_type not in FAMILIES:
        raise XgenError(
            f"{name_or_path} is model_type={config.get('model_type')!r}, architectures={config.get('architectures')}: "
            f"xgen trains {', '.join(c.__name__ for c in FAMILIES.values())} checkpoints; point model.name_or_path at one"
        )
    return model_type


class _DropUntiedNotice(logging.Filter):
    """transformers warns on every untied mT5 checkpoint that its config "specifies to tie" (which it
    forces itself) and advises a config change it then ignores."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "both are present in the checkpoints with different values" not in record.getMessage()


@contextmanager
def _untied_load_quietly():
    logger, notice = logging.getLogger("transformers.modeling_utils"), _DropUntiedNotice()
    logger.addFilter(notice)
    try:
        yield
    finally:
        logger.removeFilter(notice)


def load_model(name_or_path: str) -> PreTrainedModel:
    """The model in fp32 (mixed precision is the trainer's job), of the class its config.json names."""
    cls = FAMILIES[family(name_or_path)]
    try:
        with _untied_load_quietly():
            model = cls.from_pretrained(name_or_path, dtype=torch.float32)
    except OSError as exc:
        raise XgenError(
            f"cannot load a {cls.__name__} from {name_or_path!r} ({exc.__class__.__name__}): check "
            "model.name_or_path (a local folder from save_pretrained, or a hub id with hub access)"
        ) from exc
    if model.lm_head.weight.data_ptr() != model.shared.weight.data_ptr():
        # Loaded untied: say so in the config, so a later tie_weights() or save keeps it untied.
        model.config.tie_word_embeddings = False
    return model


def load_backbone(name_or_path: str) -> tuple[PreTrainedModel, T5Tokenizer]:
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


def new_untied(config: PreTrainedConfig, seed: int | None = None) -> PreTrainedModel:
    """A freshly initialised model of `config`'s family with its own output layer, as published mT5 is.

    The config's `tie_word_embeddings` is set False after construction (its `__post_init__` forces True);
    the model then ties nothing, so the encoder's and decoder's input embeddings are pointed back at
    `shared` by hand (published mT5 shares those three).
    """
    config.tie_word_embeddings = False
    if seed is not None:
        torch.manual_seed(seed)
    model = FAMILIES[config.model_type](config)
    model.set_input_embeddings(model.shared)
    return model


def new_tiny_mt5(vocab_size: int, d_model: int, d_ff: int, d_kv: int, num_heads: int, num_layers: int,
                 num_decoder_layers: int, dropout_rate: float = 0.0, seed: int = 0) -> MT5ForConditionalGeneration:
    """A freshly initialised small MT5 (a few million parameters) for the CPU demo and tests, untied like
    published mT5 (`new_untied`).

    transformers' default init of the untied output layer (std 1.0) starts the loss near 76 for an 8k
    vocabulary instead of about ln(vocab) = 9; std d_model^-0.5 brings it to ln(vocab) (measured; the
    input embeddings keep transformers' std 1.0).
    """
    config = MT5Config(
        vocab_size=vocab_size, d_model=d_model, d_ff=d_ff, d_kv=d_kv, num_heads=num_heads,
        num_layers=num_layers, num_decoder_layers=num_decoder_layers, dropout_rate=dropout_rate,
        decoder_start_token_id=0, pad_token_id=0, eos_token_id=1,
    )
    model = new_untied(config, seed)
    torch.nn.init.normal_(model.lm_head.weight, std=d_model**-0.5)
    return model


def expected_initial_loss(vocab_size: int) -> float:
    """Cross-entropy of a uniform guess: what a fresh backbone's first loss should be near."""
    return math.log(vocab_size)
