"""Small checkpoint folders laid out as their publishers ship them: google/mt5-small ("mt5"),
google/umt5-small ("umt5") and bigscience/mt0-small ("mt0"), at tiny sizes with random weights.

Layout sources (the published files, or fine-tuned copies that quote them via `_name_or_path`):
- mT5: config.json of google/mt5-small as copied by fine-tunes of it, e.g.
  https://huggingface.co/JuiThe/mt5small_Wreview_30e (commit ccb33f5, config.json): architectures
  ["MT5ForConditionalGeneration"], model_type "mt5", d_model 512, d_ff 1024, d_kv 64, num_heads 6,
  num_layers 8, num_decoder_layers 8, feed_forward_proj "gated-gelu", dense_act_fn "gelu_new",
  is_gated_act true, relative_attention_num_buckets 32, relative_attention_max_distance 128,
  tie_word_embeddings false, tokenizer_class "T5Tokenizer", decoder_start_token_id 0, eos 1, pad 0,
  vocab_size 250112. tokenizer_config.json as google/mt5-small ships it, quoted by e.g.
  https://huggingface.co/lewtun/tiny-random-mt5 (tokenizer_config.json): eos "</s>", unk "<unk>",
  pad "<pad>", "extra_ids": 0, additional_special_tokens null, tokenizer_class "T5Tokenizer".
- umT5: https://huggingface.co/google/umt5-small/blob/27cbeff68c9e8817f6cabfc5d061570adbb7223f/config.json:
  architectures ["UMT5ForConditionalGeneration"] and NO model_type key, scalable_attention true,
  tie_word_embeddings false, vocab_size 256384, max_new_tokens 64, the rest as mT5-small; its
  generation_config.json (commit 84afba6) has eos 1 and max_new_tokens 64.
- mT0: config.json of bigscience/mt0-small as quoted by https://huggingface.co/tbboukhari/MT0-small-fr
  (commit 0110ae3): the mT5-small config (architectures ["MT5ForConditionalGeneration"], model_type
  "mt5", vocab 250112, untied).
Not confirmed here: the tokenizer files of mT0 (taken as mT5's), and where mT5's sentinels
<extra_id_0..99> live. umT5's tokenizer is NOT mT5's, and the umT5 fixture still uses mT5's layout:
its spiece.model (umt5.256000) has 256,000 pieces and no sentinels
(https://github.com/huggingface/transformers/pull/22626, /pull/24477), and its tokenizer_config.json
(google/umt5-xxl's, as copied by the PyPI package taproot 0.3.8,
src/taproot/pretrained/tokenizer/, PretrainedWanTokenizer) has pad 0, eos 1, bos "<s>" 2, unk 3,
"extra_ids": 300 added as tokens 256000.. counting down (<extra_id_0> = 256299). transformers 5 reads
google/umt5-small through its tokenizer.json (tokenization_auto.MODEL_IDS_TO_TOKENIZERS_BACKEND);
backbone.load_tokenizer refuses a spiece.model with <unk> off id 2 that comes without one
(test_umt5_vocabulary_layout_without_tokenizer_json_is_one_line). mT5's tokenizer_config says extra_ids 0, so they are taken to be pieces of
spiece.model itself, at its end with <extra_id_0> last (as in T5, whose sentinels count down from the
top of the vocabulary).
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

FAMILIES = ("mt5", "umt5", "mt0")
SENTINELS = 100
# The tiny sizes every fixture shares; everything else is the published value.
SMALL = {"d_model": 32, "d_ff": 64, "d_kv": 8, "num_heads": 4, "num_layers": 2, "num_decoder_layers": 2}

_MT5_SMALL = {
    "architectures": ["MT5ForConditionalGeneration"],
    "d_ff": 1024, "d_kv": 64, "d_model": 512,
    "decoder_start_token_id": 0,
    "dense_act_fn": "gelu_new",
    "dropout_rate": 0.1,
    "eos_token_id": 1,
    "feed_forward_proj": "gated-gelu",
    "initializer_factor": 1.0,
    "is_encoder_decoder": True,
    "is_gated_act": True,
    "layer_norm_epsilon": 1e-06,
    "model_type": "mt5",
    "num_decoder_layers": 8, "num_heads": 6, "num_layers": 8,
    "pad_token_id": 0,
    "relative_attention_max_distance": 128,
    "relative_attention_num_buckets": 32,
    "tie_word_embeddings": False,
    "tokenizer_class": "T5Tokenizer",
    "torch_dtype": "float32",
    "transformers_version": "4.30.2",
    "use_cache": True,
    "vocab_size": 250112,
}
_UMT5_SMALL = {
    **{k: v for k, v in _MT5_SMALL.items() if k != "model_type"},
    "architectures": ["UMT5ForConditionalGeneration"],
    "max_new_tokens": 64,
    "scalable_attention": True,
    "transformers_version": "4.31.0.dev0",
    "vocab_size": 256384,
}
PUBLISHED_CONFIGS = {"mt5": _MT5_SMALL, "umt5": _UMT5_SMALL, "mt0": _MT5_SMALL}
HUB_IDS = {"mt5": "google/mt5-small", "umt5": "google/umt5-small", "mt0": "bigscience/mt0-small"}

_LINES = {
    "en": ["How to plant a tree: dig a hole twice as wide as the root ball.",
           "Water the garden early in the morning so the leaves dry by noon.",
           "The city council voted to open a new library next spring."],
    "fr": ["Comment planter un arbre : creusez un trou deux fois plus large que la motte.",
           "Arrosez le jardin tôt le matin pour que les feuilles sèchent avant midi.",
           "Le conseil municipal a voté l'ouverture d'une nouvelle bibliothèque."],
    "ru": ["Как посадить дерево: выкопайте яму вдвое шире корневого кома.",
           "Поливайте сад рано утром, чтобы листья высохли к полудню.",
           "Городской совет проголосовал за открытие новой библиотеки."],
    "th": ["วิธีปลูกต้นไม้ ขุดหลุมให้กว้างเป็นสองเท่าของรากไม้",
           "รดน้ำสวนตอนเช้าเพื่อให้ใบแห้งก่อนเที่ยง",
           "สภาเมืองลงมติเปิดห้องสมุดแห่งใหม่ในฤดูใบไม้ผลิหน้า"],
}


def _text() -> list[str]:
    """A few hundred lines of mixed en/fr/ru/th."""
    lines = []
    for i in range(60):
        for lang, sentences in _LINES.items():
            a, b = sentences[i % 3], sentences[(i + 1) % 3]
            lines.append(f"{a} {b} ({lang} {i})")
    return lines


def _write_spiece(folder: Path) -> int:
    """A real SentencePiece model (byte fallback; pad 0, eos 1, unk 2, no bos) whose last pieces are the
    sentinels <extra_id_99> .. <extra_id_0>; returns its size."""
    import sentencepiece
    from sentencepiece import sentencepiece_model_pb2

    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(_text()), model_prefix=str(folder / "spiece"), vocab_size=400, byte_fallback=True,
        character_coverage=1.0, pad_id=0, eos_id=1, unk_id=2, bos_id=-1, hard_vocab_limit=False, minloglevel=2,
    )
    (folder / "spiece.vocab").unlink()
    proto = sentencepiece_model_pb2.ModelProto()
    proto.ParseFromString((folder / "spiece.model").read_bytes())
    for i in reversed(range(SENTINELS)):
        piece = proto.pieces.add()
        piece.piece, piece.score, piece.type = f"<extra_id_{i}>", 0.0, piece.USER_DEFINED
    (folder / "spiece.model").write_bytes(proto.SerializeToString())
    return len(proto.pieces)


def _model(family: str, config: dict, seed: int):
    from transformers import AutoConfig, MT5ForConditionalGeneration, UMT5ForConditionalGeneration

    model_type = "umt5" if family == "umt5" else "mt5"
    settings = {k: v for k, v in config.items() if k not in ("architectures", "model_type", "transformers_version",
                                                                "torch_dtype")}
    hf_config = AutoConfig.for_model(model_type, **settings)
    hf_config.tie_word_embeddings = False  # transformers 5 forces True; the published checkpoint is untied
    torch.manual_seed(seed)
    model = (UMT5ForConditionalGeneration if family == "umt5" else MT5ForConditionalGeneration)(hf_config)
    model.set_input_embeddings(model.shared)
    return model


def write_checkpoint(folder: Path, family: str, seed: int = 0) -> Path:
    """`folder` holding a `family` checkpoint as published (config.json, generation_config.json,
    model.safetensors with its own lm_head.weight, spiece.model, special_tokens_map.json,
    tokenizer_config.json), at SMALL sizes and the fixture vocabulary's size."""
    from safetensors.torch import save_file

    if family not in FAMILIES:
        raise ValueError(f"family {family!r}: one of {FAMILIES}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = _write_spiece(folder)
    config = {**PUBLISHED_CONFIGS[family], **SMALL, "vocab_size": vocab}
    (folder / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True))
    generation = {"decoder_start_token_id": 0, "eos_token_id": 1, "pad_token_id": 0,
                  "transformers_version": config["transformers_version"]}
    if family == "umt5":
        generation["max_new_tokens"] = 64
    (folder / "generation_config.json").write_text(json.dumps(generation, indent=2))
    special = {"eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}
    (folder / "special_tokens_map.json").write_text(json.dumps(special))
    (folder / "tokenizer_config.json").write_text(json.dumps({
        **special, "extra_ids": 0, "additional_special_tokens": None, "name_or_path": HUB_IDS[family],
        "sp_model_kwargs": {}, "tokenizer_class": "T5Tokenizer"}))
    model = _model(family, config, seed)
    # The stacks' copies of shared.weight are left out (safetensors stores a tensor once; which name a
    # published conversion keeps is not confirmed here); lm_head.weight is a tensor of its own.
    tensors = {k: v.contiguous() for k, v in model.state_dict().items()
               if k not in ("encoder.embed_tokens.weight", "decoder.embed_tokens.weight")}
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})
    return folder
