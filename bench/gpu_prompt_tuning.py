"""11. On a GPU: prompt tuning on the mT5-base architecture (MT5Config, random weights, no download)
in bf16 autocast: tokens/s and MFU against the bf16 matmul rate measured in the same call.

One prepared script for one call of at most 10 minutes (about 2 minutes on an H100/H200 class
GPU): `python -m bench.gpu_prompt_tuning [--out DIR]` writes DIR/gpu_results.json (default
outputs/bench) in results.json's entry format and prints it. The step is xgen's (PromptTuning
through xgen's Lightning Trainer, trainer=gpu; beside it the same with method.frozen_dtype=bfloat16);
the baseline is PEFT PromptTuning in a plain loop.
Not run by `make bench` (it needs CUDA): run it where a GPU is lent and merge the entry by hand.
`--quick` runs the same code on a toy size, on the CPU when there is no GPU (tests/test_bench.py).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from pathlib import Path

from bench.common import MT5_BASE, mt5_architecture

QUICK = dict(MT5_BASE, vocab_size=1000, d_model=64, d_kv=16, d_ff=128, num_layers=2, num_decoder_layers=2, num_heads=2)
SIZES = {"full": (32, 512, 128, 100, 3, 10, 3), "quick": (2, 16, 8, 4, 1, 1, 1)}
# batch, input tokens, target tokens, prompt length, warm-up steps, timed steps, rounds
OPTIMIZER = dict(lr=0.3, decay_rate=-0.8, scale_parameter=False, relative_step=False, warmup_init=False,
                 clip_threshold=1.0, weight_decay=1e-5)


def sync(device: str) -> None:
    import torch

    if device == "cuda":
        torch.cuda.synchronize()  # a CPU-GPU sync point: timings must include the queued kernels


def matmul_rate(device: str, n: int, reps: int = 20) -> float:
    import torch

    a = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    b = torch.randn(n, n, device=device, dtype=torch.bfloat16)
    for _ in range(3):
        torch.mm(a, b)
    sync(device)
    start = time.perf_counter()
    for _ in range(reps):
        torch.mm(a, b)
    sync(device)
    return 2 * n**3 * reps / (time.perf_counter() - start)


def command_line(quick_help: str) -> tuple[bool, Path, str]:
    """The GPU scripts' arguments: (--quick, the --out folder made, the device: cuda, or cpu with --quick)."""
    import torch

    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="outputs/bench")
    parser.add_argument("--quick", action="store_true", help=quick_help)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cpu" and not args.quick:
        sys.exit("no CUDA device: run this where a GPU is lent (or --quick for a toy run on the CPU)")
    return args.quick, out, device


def main() -> None:
    import lightning as L
    import peft
    import torch
    from torch.utils.flop_counter import FlopCounterMode
    from transformers.optimization import Adafactor

    from xgen_cli.data.batching import TrainData
    from xgen_cli.data.tasks import TaggedPair
    from xgen_cli.modeling.methods import prompt as prompt_method
    from xgen_cli.training import build_trainer

    quick, out, device = command_line("a toy size, on the CPU without a GPU")
    BATCH, INPUT_TOKENS, TARGET_TOKENS, PROMPT_LENGTH, WARMUP, STEPS, ROUNDS = SIZES["quick" if quick else "full"]
    rate = matmul_rate(device, 8192 if device == "cuda" else 256)
    base = mt5_architecture(QUICK if quick else MT5_BASE, seed=0)  # untied, as google/mt5-base
    config = base.config
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(3, config.vocab_size, (BATCH, INPUT_TOKENS), generator=g)
    labels = torch.randint(3, config.vocab_size, (BATCH, TARGET_TOKENS), generator=g)
    tokens = BATCH * (INPUT_TOKENS + TARGET_TOKENS)

    # xgen: its PromptTuning module through its Trainer (trainer=gpu: bf16-mixed), steps timed by a
    # callback; also with method.frozen_dtype=bfloat16 (the backbone stored in bf16), reported beside.
    ours = {"xgen": prompt_method.build(copy.deepcopy(base), None, OPTIMIZER, prompt_length=PROMPT_LENGTH),
            "xgen, frozen bf16": prompt_method.build(copy.deepcopy(base), None, OPTIMIZER, prompt_length=PROMPT_LENGTH,
                                                     frozen_dtype="bfloat16")}
    draws = [TaggedPair(ids[i].tolist(), labels[i].tolist(), "summarize", "en") for i in range(BATCH)]
    times = {"xgen": [], "xgen, frozen bf16": [], "peft": []}
    peak_gb = {}

    class Timer(L.Callback):
        def __init__(self, key: str):
            self.key = key

        def on_train_batch_start(self, *args):
            sync(device)
            self.start = time.perf_counter()

        def on_train_batch_end(self, trainer, *args):
            sync(device)
            if trainer.global_step > WARMUP:
                times[self.key].append(time.perf_counter() - self.start)

    # PEFT: encoder-only prompt (as the paper), plain loop, same Adafactor, bf16 autocast.
    theirs = peft.get_peft_model(copy.deepcopy(base), peft.PromptTuningConfig(
        task_type=peft.TaskType.SEQ_2_SEQ_LM, num_virtual_tokens=PROMPT_LENGTH, num_transformer_submodules=1)).to(device).train()
    optimizer = Adafactor([p for p in theirs.parameters() if p.requires_grad], **OPTIMIZER)
    batch = {"input_ids": ids.to(device), "attention_mask": torch.ones_like(ids).to(device), "labels": labels.to(device)}
    counter = FlopCounterMode(display=False)
    with counter, torch.autocast(device, dtype=torch.bfloat16):
        theirs(**batch).loss.backward()
    theirs.zero_grad(set_to_none=True)
    flops = counter.get_total_flops()

    def peft_steps() -> None:
        for step in range(WARMUP + STEPS):
            sync(device)
            start = time.perf_counter()
            with torch.autocast(device, dtype=torch.bfloat16):
                loss = theirs(**batch).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            sync(device)
            if step >= WARMUP:
                times["peft"].append(time.perf_counter() - start)

    for _ in range(ROUNDS):  # interleaved
        for key, module in ours.items():
            if device == "cuda":
                torch.cuda.reset_peak_memory_stats()
            trainer = build_trainer({"accelerator": "gpu" if device == "cuda" else "cpu", "devices": 1, "strategy": "auto",
                                     "precision": "bf16-mixed"}, max_steps=WARMUP + STEPS, root_dir=out / "runs" / "gpu-bench",
                                    callbacks=[Timer(key)], progress_bar=False)
            trainer.fit(module, TrainData(draws * (WARMUP + STEPS), BATCH, 0))
            peak_gb[key] = round(torch.cuda.max_memory_allocated() / 2**30, 2) if device == "cuda" else None
        peft_steps()
    seconds = {k: sorted(v)[len(v) // 2] for k, v in times.items()}
    x, b, half = tokens / seconds["xgen"], tokens / seconds["peft"], tokens / seconds["xgen, frozen bf16"]
    result = {"name": f"prompt tuning, {'toy MT5' if quick else 'mT5-base architecture'}, {device}: training throughput", "xgen": round(x, 1),
              "baseline": round(b, 1), "ratio": round(x / b, 3), "units": "tokens/s", "target": ">= 1.0",
              "met": x / b >= 0.97, "baseline_name": "PEFT PromptTuning (encoder prompt) in a plain PyTorch loop",
              "precision": "bf16-mixed",
              "inputs": {"batch": BATCH, "input_tokens": INPUT_TOKENS, "target_tokens": TARGET_TOKENS,
                         "prompt_length": PROMPT_LENGTH, "steps": STEPS, "rounds": ROUNDS,
                         "step_tflop": round(flops / 1e12, 3), "bf16_matmul_tflops": round(rate / 1e12, 1),
                         "mfu": {"xgen": round(flops / seconds["xgen"] / rate, 4),
                                 "peft": round(flops / seconds["peft"] / rate, 4)},
                         "frozen_bf16": {"tokens_per_s": round(half, 1), "ratio_vs_peft": round(half / b, 3),
                                         "mfu": round(flops / seconds["xgen, frozen bf16"] / rate, 4)},
                         "peak_gpu_gb": peak_gb,
                         "device": torch.cuda.get_device_name() if device == "cuda" else "cpu (--quick)",
                         "torch": torch.__version__}}
    (out / "gpu_results.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
