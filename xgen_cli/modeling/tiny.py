"""`model=tiny`: a small MT5 with a SentencePiece model trained on the demo corpus, pretrained on
the demo corpus's unlabeled text in all its languages, saved with `save_pretrained` and cached.

The cache key is a hash of the `build` config, so a changed architecture or schedule builds anew
and an unchanged one loads at once through the same `from_pretrained` path as mT5.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from xgen_cli.modeling.backbone import SPM_FILE

DONE_FILE = "xgen_build.json"  # written last: its presence means the folder is complete
# Bumped when the build's code changes what it builds for the same config (2: pretraining draws
# from the index-addressable Mixture), so a cached backbone of an older recipe is not reused.
RECIPE = 2


def tiny_dir(cache_dir: str | Path, build: dict) -> Path:
    key = hashlib.sha1(json.dumps({**build, "recipe": RECIPE}, sort_keys=True).encode()).hexdigest()[:12]
    return Path(cache_dir).expanduser() / "backbones" / f"tiny-{key}"


def train_sentencepiece(texts: list[str], out_dir: Path, vocab_size: int) -> Path:
    import sentencepiece as spm

    # T5's special ids (pad 0, eos 1, unk 2, no bos); byte fallback so no character is unknown.
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(texts), model_prefix=str(out_dir / "spiece"), vocab_size=vocab_size,
        model_type="unigram", character_coverage=1.0, byte_fallback=True, pad_id=0, eos_id=1, unk_id=2,
        bos_id=-1, hard_vocab_limit=False, minloglevel=2, num_threads=2,
    )
    return out_dir / SPM_FILE


def ensure_tiny(cache_dir: str | Path, build: dict, trainer: dict, rebuild: bool = False) -> Path:
    """The tiny backbone's folder, built first if it is not cached (or `rebuild`)."""
    target = tiny_dir(cache_dir, build)
    if (target / DONE_FILE).is_file() and not rebuild:
        return target
    from transformers import T5Tokenizer

    from xgen_cli.data.demo import DEMO_LANGS, generate_unlabeled
    from xgen_cli.modeling.backbone import expected_initial_loss, new_tiny_mt5
    from xgen_cli.modeling.pretraining import pretrain

    start = time.perf_counter()
    print(f"[tiny] building the tiny backbone into {target} (cached for later runs)", file=sys.stderr, flush=True)
    corpus = build["corpus"]
    texts = [t for lang in DEMO_LANGS for t in generate_unlabeled(lang, corpus["n_unlabeled"], corpus["seed"])]
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        train_sentencepiece(texts, work, build["vocab_size"])
        tokenizer = T5Tokenizer.from_pretrained(str(work))
        arch = build["architecture"]
        vocab = len(tokenizer)
        model = new_tiny_mt5(vocab_size=vocab, seed=build["pretrain"]["seed"], **arch)
        n_params = sum(p.numel() for p in model.parameters())
        print(f"[tiny] {n_params / 1e6:.1f}M parameters, vocabulary {vocab} (a fresh loss should be near "
              f"ln(vocab) = {expected_initial_loss(vocab):.1f})", file=sys.stderr, flush=True)
        p = build["pretrain"]
        pretrain(model, tokenizer, texts, [("span_corruption", p["span_corruption_steps"]),
                                           ("prefix_lm", p["prefix_lm_steps"])],
                 batch_size=p["batch_size"], lr=p["lr"], max_tokens=p["max_tokens"], seed=p["seed"],
                 # One process, whatever the run's trainer: the ranks a DDP run starts later find it cached.
                 trainer={**trainer, "devices": 1, "num_nodes": 1, "strategy": "auto"}, root_dir=work / "lightning")
        shutil.rmtree(work / "lightning", ignore_errors=True)
        model.save_pretrained(work)
        tokenizer.save_pretrained(work)
        seconds = time.perf_counter() - start
        (work / DONE_FILE).write_text(json.dumps({"build": build, "parameters": n_params, "seconds": round(seconds, 1)}))
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    print(f"[tiny] built in {seconds:.0f}s", file=sys.stderr, flush=True)
    return target


def resolve_name_or_path(model: dict, cache_dir: str | Path, trainer: dict) -> str:
    """`model.name_or_path` if set, else the cached tiny backbone (built on first use)."""
    if model.get("name_or_path"):
        return str(model["name_or_path"])
    return str(ensure_tiny(cache_dir, model["build"], trainer))
