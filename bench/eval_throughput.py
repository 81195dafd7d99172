"""4. Evaluation throughput: xgen's Evaluator (batches sorted by input length, so little padding)
vs the same beam search over batches in data order, same batch size and settings; the
predictions must be identical.

The validation set has a realistic spread of article lengths (synthetic, as bench/data_memory.py:
about 110-1,024 pieces); the model is a randomly initialised MT5 with the tiny backbone's
architecture and the micro backbone's tokenizer.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from bench.common import entry, interleaved, median, micro_backbone
from bench.data_memory import ARTICLE_WORDS, SUMMARY_WORDS

EXAMPLES, QUICK_EXAMPLES = 64, 8  # 64: four batches (the paper evaluates 250 a language)
ROUNDS, QUICK_ROUNDS = 2, 1
BATCH, BEAMS, NEW_TOKENS = 16, 4, 24
ARCHITECTURE = dict(d_model=128, d_ff=512, d_kv=32, num_heads=4, num_layers=3, num_decoder_layers=3)


def examples(n: int, seed: int = 1):
    from xgen_cli.data.demo import generate_unlabeled
    from xgen_cli.data.example import Example

    words = sorted({w for text in generate_unlabeled("en", 300, 0) for w in text.split()})
    rng = random.Random(seed)
    return [Example(f"v{i}", "en", " ".join(rng.choices(words, k=rng.randint(*ARTICLE_WORDS))),
                    " ".join(rng.choices(words, k=rng.randint(*SUMMARY_WORDS)))) for i in range(n)]


def run(quick: bool, out: Path) -> list[dict]:
    import torch
    from transformers import T5Tokenizer

    from xgen_cli.evaluation import Evaluator
    from xgen_cli.modeling.backbone import new_tiny_mt5
    from xgen_cli.modeling.methods import model as model_method

    tokenizer = T5Tokenizer.from_pretrained(str(micro_backbone()))
    module = model_method.build(new_tiny_mt5(vocab_size=len(tokenizer), **ARCHITECTURE), tokenizer, {"lr": 1e-3}).eval()
    data = examples(QUICK_EXAMPLES if quick else EXAMPLES)
    settings = dict(num_beams=BEAMS, max_new_tokens=NEW_TOKENS, batch_size=BATCH, compute_loss=False)
    sorted_eval = Evaluator({"en": data}, tokenizer, None, **settings)

    data_order = Evaluator({"en": data}, tokenizer, None, **settings, sort_by_length=False)
    pairs = sorted_eval._tokenize(data)
    predictions = {}

    def timed(name, evaluator):
        def go():
            with torch.inference_mode():
                predictions[name] = evaluator.predict(module, data, pairs)[0]
        return go

    seconds = interleaved({"xgen": timed("xgen", sorted_eval), "data order": timed("data order", data_order)},
                          QUICK_ROUNDS if quick else ROUNDS)
    if predictions["xgen"] != predictions["data order"]:
        differ = sum(a != b for a, b in zip(predictions["xgen"], predictions["data order"], strict=True))
        raise AssertionError(f"length-sorted and data-order predictions differ on {differ} of {len(data)} examples")
    lengths = sorted(len(p.input_ids) for p in pairs)
    x, b = len(data) / median(seconds["xgen"]), len(data) / median(seconds["data order"])
    print(f"  eval: sorted {x:.1f} ex/s, data order {b:.1f} ex/s", file=sys.stderr, flush=True)
    return [entry(f"evaluation, beam search over {len(data)} examples", x, b, "examples/s", ratio=x / b, target=">= 1.3",
                  met=x / b >= 1.3, baseline_name="the same generate() over batches in data order",
                  inputs={"examples": len(data), "batch_size": BATCH, "num_beams": BEAMS, "max_new_tokens": NEW_TOKENS,
                          "input_tokens": {"min": lengths[0], "median": lengths[len(lengths) // 2], "max": lengths[-1]},
                          "architecture": ARCHITECTURE, "identical_predictions": True,
                          "rounds": len(seconds["xgen"])},
                  precision="32-true", notes="ratio = xgen / baseline (examples per second)")]
