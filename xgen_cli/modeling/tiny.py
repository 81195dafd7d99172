"""`model=tiny`: a small MT5 built on the run's corpus (`data=`, the demo by default): a SentencePiece
vocabulary and span-corruption + prefix-LM pretraining on a language-balanced sample of the corpus's
unlabeled text in all its languages, saved with `save_pretrained` and cached.

The cache key is a hash of the build settings and of the sample's text itself, so the same text
(wherever the corpus lives) finds the same backbone, `xgen train` finds the backbone `xgen pretrain`
built on that corpus, and an edited corpus or a changed recipe builds anew. Reading the sample costs
at most `sample.max_texts` lines per language.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import shutil
import sys
import tempfile
import time
from pathlib import Path

from xgen_cli.errors import XgenError

DONE_FILE = "xgen_build.json"  # written last: its presence means the folder is complete
# Bumped when the build's code changes what it builds for the same config (3: built on the run's
# corpus from a language-balanced sample; 4: an untied output layer, as published mT5), so a cached
# backbone of an older recipe is not reused.
RECIPE = 4


def balanced_sample(texts: dict[str, list[str]], chars_per_lang: int) -> dict[str, list[str]]:
    """Every language's texts cut or repeated to the same number of characters: `chars_per_lang`, or the
    largest language's total if that is less. Whole texts in file order; a language with less text is
    cycled through again, so a small language weighs as much as a large one in the vocabulary and the
    pretraining draws."""
    budget = min(chars_per_lang, max((sum(map(len, t)) for t in texts.values()), default=0))
    sample = {}
    for lang, lang_texts in texts.items():
        chosen, chars = [], 0
        for text in itertools.cycle(lang_texts):
            if chars >= budget:
                break
            chosen.append(text)
            chars += len(text)
        sample[lang] = chosen
    return sample


def read_sample(build: dict) -> dict[str, list[str]]:
    """The build's text: the first `sample.max_texts` unlabeled texts of each language of `build.corpus`
    (its unlabeled.jsonl, else its training articles), balanced by characters."""
    import hydra

    if not isinstance(build.get("corpus"), dict) or "_target_" not in build["corpus"]:
        # A config saved before the build read the run's corpus: {seed, n_unlabeled} of the demo.
        raise XgenError(f"model.build.corpus={build.get('corpus')} names no corpus (a config from an older xgen): "
                        "set model.build.corpus='${data.corpus}', or model.name_or_path=<the backbone folder>")
    corpus = hydra.utils.instantiate(build["corpus"])
    texts, without = {}, []
    for lang in corpus.languages():
        try:
            texts[lang] = [t for t in corpus.unlabeled(lang, build["sample"]["max_texts"]) if t.strip()]
        except XgenError:  # e.g. an evaluation-only language: validation.jsonl and nothing else
            texts[lang] = []
        if not texts[lang]:
            del texts[lang]
            without.append(lang)
    if not texts:
        raise XgenError(f"the corpus {build['corpus'].get('path') or ''} has no unlabeled text to build the tiny "
                        "backbone on: add <lang>/unlabeled.jsonl ({\"text\": ...} lines) or <lang>/train.jsonl")
    if without:
        print(f"[tiny] no unlabeled text for {', '.join(without)} (no unlabeled.jsonl or train.jsonl): their "
              "characters may be spelled as bytes; add <lang>/unlabeled.jsonl", file=sys.stderr, flush=True)
    return balanced_sample(texts, build["sample"]["chars_per_lang"])


def tiny_key(build: dict, sample: dict[str, list[str]]) -> str:
    """A hash of the build settings (the corpus's location aside) and of the sample's text."""
    settings = {k: v for k, v in build.items() if k != "corpus"}
    digest = hashlib.sha1(json.dumps({**settings, "recipe": RECIPE}, sort_keys=True).encode())
    for lang, texts in sorted(sample.items()):
        digest.update(json.dumps([lang, texts], ensure_ascii=False).encode())
    return digest.hexdigest()[:12]


def tiny_dir(cache_dir: str | Path, build: dict, sample: dict[str, list[str]] | None = None) -> Path:
    """The cached backbone's folder for this build and corpus (the corpus is read if `sample` is not given)."""
    sample = read_sample(build) if sample is None else sample
    return Path(cache_dir).expanduser().absolute() / "backbones" / f"tiny-{tiny_key(build, sample)}"


def percent(share: float) -> str:
    """A share as a percentage: one decimal from 1% up, two significant digits below (a byte-fallback
    share of 0.01% and one of 0.04% must read apart), and exactly 0 as "0%"."""
    value = share * 100
    if value == 0 or value >= 1:
        return "0%" if value == 0 else f"{value:.1f}%"
    return f"{value:.{1 - math.floor(math.log10(value))}f}%"


def ensure_tiny(cache_dir: str | Path, build: dict, trainer: dict, rebuild: bool = False) -> Path:
    """The tiny backbone's folder, built first if it is not cached (or `rebuild`)."""
    sample = read_sample(build)
    target = tiny_dir(cache_dir, build, sample)
    if (target / DONE_FILE).is_file() and not rebuild:
        return target
    from transformers import T5Tokenizer

    from xgen_cli.modeling.backbone import expected_initial_loss, new_tiny_mt5
    from xgen_cli.modeling.pretraining import pretrain
    from xgen_cli.modeling.vocabulary import byte_fallback_share, train_sentencepiece

    start = time.perf_counter()
    print(f"[tiny] building the tiny backbone into {target} (cached for later runs)", file=sys.stderr, flush=True)
    texts = [t for lang_texts in sample.values() for t in lang_texts]
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        spm_file = train_sentencepiece(texts, work, build["vocab_size"], build["character_coverage"])
        languages = {lang: {"texts": len(t), "characters": sum(map(len, t)),
                            "byte_fallback": round(byte_fallback_share(spm_file, t), 6)} for lang, t in sample.items()}
        print("[tiny] sample and byte-fallback share of its pieces: " + ", ".join(
            f"{lang} {s['characters']:,} chars {percent(s['byte_fallback'])}" for lang, s in languages.items()),
            file=sys.stderr, flush=True)
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
        (work / DONE_FILE).write_text(json.dumps({"build": build, "languages": languages, "parameters": n_params,
                                                  "seconds": round(seconds, 1)}, ensure_ascii=False))
        if target.exists():
            shutil.rmtree(target)
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    print(f"[tiny] built in {seconds:.0f}s", file=sys.stderr, flush=True)
    return target


def resolve_name_or_path(model: dict, cache_dir: str | Path, trainer: dict) -> str:
    """`model.name_or_path` if set, else the tiny backbone of `model.build` on its corpus (built on first use)."""
    if model.get("name_or_path"):
        return str(model["name_or_path"])
    return str(ensure_tiny(cache_dir, model["build"], trainer))
