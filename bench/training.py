"""1, 2, 3, 8. Training on the mT5-small architecture (MT5Config with random weights, no download),
batch and lengths fixed, every row full (no padding):

1. prompt tuning: xgen's training step (PromptTuning through the Lightning Trainer, as `xgen train`
   runs it) vs PEFT PromptTuning (encoder-only prompt) in a plain PyTorch loop; tokens/s;
2. model tuning: xgen's ModelTuning vs a plain HF + PyTorch loop; tokens/s;
   both with the same Adafactor settings, in fp32 and in bf16 autocast; MFU against this machine's
   matmul rate measured in the same run (model FLOPs of a step counted by torch's FlopCounterMode);
3. peak RSS of a prompt-tuning vs a model-tuning `xgen` training process (separate processes);
8. bf16 autocast vs fp32 for xgen's prompt-tuning step (the case for `precision: auto`).
"""

from __future__ import annotations

import copy
import sys
import time
from pathlib import Path

from bench.common import MT5_SMALL, entry, median, mt5_architecture, peak_rss_mb

# mT5-small (google/mt5-small's config.json, untied); QUICK: the same code on a toy size.
QUICK = dict(MT5_SMALL, vocab_size=1000, d_model=64, d_kv=16, d_ff=128, num_layers=2, num_decoder_layers=2, num_heads=2)
# Multiples of 32 (data/batching.py WIDTH_MULTIPLE), so xgen's batches are as full as the baselines'.
BATCH, INPUT_TOKENS, TARGET_TOKENS, PROMPT_LENGTH = 2, 96, 32, 100
ROUNDS, STEPS = 2, 2  # per round and candidate: one untimed warm-up step, then STEPS timed (medians of 4)
QUICK_ROUNDS, QUICK_STEPS = 1, 1
# conf/method/prompt.yaml's optimizer; model tuning in the paper: Adafactor at a constant 0.001.
PROMPT_OPTIMIZER = dict(lr=0.3, decay_rate=-0.8, scale_parameter=False, relative_step=False, warmup_init=False,
                        clip_threshold=1.0, weight_decay=1e-5)
MODEL_OPTIMIZER = dict(lr=1e-3, scale_parameter=False, relative_step=False, warmup_init=False)
PRECISIONS = {"32-true": None, "bf16-mixed": "bf16"}
PEAK_METHODS = ("prompt", "prompt-bf16", "model")  # prompt-bf16: method.frozen_dtype=bfloat16


def backbone(quick: bool):
    return mt5_architecture(QUICK if quick else MT5_SMALL, seed=0)


def batch(vocab: int) -> dict:
    import torch

    g = torch.Generator().manual_seed(0)
    ids = torch.randint(3, vocab, (BATCH, INPUT_TOKENS), generator=g)
    labels = torch.randint(3, vocab, (BATCH, TARGET_TOKENS), generator=g)
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}


def matmul_rate(dtype, n: int = 1024, reps: int = 10) -> float:
    """FLOP/s of an n x n matmul on this machine now (the best of `reps`)."""
    import torch

    a, b = torch.randn(n, n).to(dtype), torch.randn(n, n).to(dtype)
    torch.mm(a, b)
    best = min(_seconds(lambda: torch.mm(a, b)) for _ in range(reps))
    return 2 * n**3 / best


def _seconds(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


class XgenSteps:
    """xgen's training step: the method's LightningModule fit by xgen's Trainer for a few steps,
    each step timed by a callback (batch start to batch end: forward, backward, optimizer)."""

    def __init__(self, module, example: dict, precision: str, out: Path):
        from xgen_cli.data.tasks import TaggedPair

        self.module, self.precision, self.out = module, precision, out
        row = TaggedPair(example["input_ids"][0].tolist(), example["labels"][0].tolist(), "summarize", "en")
        self.draws = [TaggedPair(example["input_ids"][i].tolist(), example["labels"][i].tolist(), *row[2:])
                      for i in range(BATCH)]

    def __call__(self, steps: int) -> list[float]:
        import lightning as L

        from xgen_cli.data.batching import TrainData
        from xgen_cli.training import build_trainer

        times: list[float] = []

        class Timer(L.Callback):
            def on_train_batch_start(self, *args):
                self.start = time.perf_counter()

            def on_train_batch_end(self, *args):
                times.append(time.perf_counter() - self.start)

        total = steps + 1
        trainer = build_trainer({"accelerator": "cpu", "devices": 1, "strategy": "auto", "precision": self.precision},
                                max_steps=total, root_dir=self.out / "runs" / "training-bench", callbacks=[Timer()],
                                progress_bar=False)
        trainer.fit(self.module, TrainData(self.draws * total, BATCH, 0))
        return times[1:]


class PlainSteps:
    """The baseline: a plain PyTorch loop (forward, backward, Adafactor step, zero_grad)."""

    def __init__(self, model, params, optimizer: dict, example: dict, precision: str):
        from transformers.optimization import Adafactor

        self.model, self.example, self.bf16 = model.train(), example, PRECISIONS[precision] == "bf16"
        self.optimizer = Adafactor(params, **optimizer)

    def __call__(self, steps: int) -> list[float]:
        import torch

        times = []
        for _ in range(steps + 1):
            start = time.perf_counter()
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.bf16):
                loss = self.model(**self.example).loss
            loss.backward()
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            times.append(time.perf_counter() - start)
        return times[1:]


def step_flops(model, example: dict) -> int:
    """Model FLOPs of one forward + backward (matmuls and attention), as torch counts them."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        model(**example).loss.backward()
    model.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def compare(candidates: dict, rounds: int, steps: int) -> dict[str, list[float]]:
    """Every timed step's seconds per candidate: interleaved round by round, the order turned each
    round (whoever runs second finds the caches and allocator the first one warmed)."""
    times: dict[str, list[float]] = {name: [] for name in candidates}
    for r in range(rounds):
        for name, run in list(candidates.items())[:: 1 if r % 2 == 0 else -1]:
            times[name] += run(steps)
    return times


def run(quick: bool, out: Path) -> list[dict]:
    import peft
    import torch

    from xgen_cli.modeling.methods import model as model_method
    from xgen_cli.modeling.methods import prompt as prompt_method
    from xgen_cli.training import cpu_has_bf16_units

    rounds, steps = (QUICK_ROUNDS, QUICK_STEPS) if quick else (ROUNDS, STEPS)
    precisions = list(PRECISIONS) if cpu_has_bf16_units() else ["32-true"]
    rate = {"32-true": matmul_rate(torch.float32), "bf16-mixed": matmul_rate(torch.bfloat16)}
    base = backbone(quick)
    # Saved once for the peak-memory processes (3.), which load it as `xgen train` loads a backbone.
    folder = out / "cache" / ("mt5-small-untied-random" if not quick else "mt5-toy-untied-random")  # not an older tied save
    if not (folder / "config.json").is_file():
        base.save_pretrained(folder)
    example = batch(base.config.vocab_size)
    tokens = BATCH * (INPUT_TOKENS + TARGET_TOKENS)
    arch = "mT5-small architecture" if not quick else "toy MT5"
    inputs = {"architecture": "mt5-small config (untied), random weights" if not quick else QUICK,
              "parameters": sum(p.numel() for p in base.parameters()), "batch": BATCH,
              "input_tokens": INPUT_TOKENS, "target_tokens": TARGET_TOKENS, "rounds": rounds, "steps_per_round": steps,
              "matmul_gflops": {p: round(r / 1e9, 1) for p, r in rate.items()}}
    rows, xgen_prompt = [], {}

    # 1. prompt tuning: xgen's PromptTuning vs PEFT's, on copies of one backbone.
    ours = prompt_method.build(copy.deepcopy(base), None, PROMPT_OPTIMIZER, prompt_length=PROMPT_LENGTH)
    config = peft.PromptTuningConfig(task_type=peft.TaskType.SEQ_2_SEQ_LM, num_virtual_tokens=PROMPT_LENGTH,
                                     num_transformer_submodules=1)  # encoder only, as the paper (tests/test_prompt_tuning_vs_peft.py)
    theirs = peft.get_peft_model(copy.deepcopy(base), config)
    flops = step_flops(theirs, example)
    for precision in precisions:
        every = compare({"xgen": XgenSteps(ours, example, precision, out),
                         "peft": PlainSteps(theirs, [p for p in theirs.parameters() if p.requires_grad],
                                            PROMPT_OPTIMIZER, example, precision)}, rounds, steps)
        xgen_prompt[precision] = median(every["xgen"])
        rows.append(_throughput(f"prompt tuning, {arch}", every, "peft", tokens, flops, rate[precision], precision,
                                "PEFT PromptTuning (encoder prompt) in a plain PyTorch loop", inputs))
    del ours, theirs

    # 2. model tuning: xgen's ModelTuning vs plain HF.
    ours = model_method.build(copy.deepcopy(base), None, MODEL_OPTIMIZER)
    plain = copy.deepcopy(base)
    del base  # 0.7 GB in fp32: three copies plus two sets of gradients would crowd a 16 GB machine
    flops = step_flops(plain, example)
    for precision in precisions:
        every = compare({"xgen": XgenSteps(ours, example, precision, out),
                         "hf": PlainSteps(plain, plain.parameters(), MODEL_OPTIMIZER, example, precision)}, rounds, steps)
        rows.append(_throughput(f"model tuning, {arch}", every, "hf", tokens, flops, rate[precision], precision,
                                "MT5ForConditionalGeneration in a plain PyTorch loop", inputs))
    del ours, plain

    # 8. bf16 autocast vs fp32, xgen's prompt-tuning step.
    if "bf16-mixed" in xgen_prompt:
        x, b = xgen_prompt["bf16-mixed"], xgen_prompt["32-true"]
        rows.append(entry(f"precision: bf16 autocast vs fp32, one prompt-tuning step, {arch}", x, b, "s/step",
                          ratio=b / x, target="> 1 where precision: auto picks bf16", met=b / x > 1,
                          baseline_name="the same step in fp32", inputs=inputs, precision="bf16-mixed vs 32-true",
                          notes="from the prompt-tuning rows above"))

    # 3. peak memory, one process per method, each loading the backbone as `xgen train` does
    # (from_pretrained on a saved folder: building one with random weights briefly takes twice its size).
    mb, runtime = {}, {}
    for method in PEAK_METHODS:
        before = out / f"peak-{method}-runtime"
        mb[method] = peak_rss_mb("bench.training", ["--peak", method, str(folder), str(before)])
        runtime[method] = int(before.read_text()) / 1024
        before.unlink()
    for method in ("prompt", "prompt-bf16"):
        # Both processes also hold the same runtime (Python, torch, transformers, Lightning: RSS
        # before the backbone loads); ratio_above_runtime compares what each method adds to it.
        net = (mb[method] - runtime[method]) / (mb["model"] - runtime["model"])
        how = "method.frozen_dtype=bfloat16" if method == "prompt-bf16" else "the backbone fp32, as loaded"
        rows.append(entry(f"peak RSS: prompt ({how}) vs model tuning, {arch}", mb[method], mb["model"], "MB",
                          ratio=mb[method] / mb["model"], target="<= 0.5", met=mb[method] / mb["model"] <= 0.5,
                          baseline_name="model tuning (xgen)", precision="bf16-mixed" if len(precisions) > 1 else "32-true",
                          inputs=dict(inputs, steps=3, runtime_mb={k: round(runtime[k]) for k in (method, "model")},
                                      ratio_above_runtime=round(net, 3)),
                          notes="ratio = prompt MB / model MB (lower: prompt lighter)"))
    return rows


def _throughput(name, every, baseline, tokens, flops, rate, precision, baseline_name, inputs) -> dict:
    seconds = {candidate: median(values) for candidate, values in every.items()}
    x, b = tokens / seconds["xgen"], tokens / seconds[baseline]
    mfu = {"xgen": flops / seconds["xgen"] / rate, baseline: flops / seconds[baseline] / rate}
    print(f"  {name} {precision}: xgen {x:.0f} tok/s, {baseline} {b:.0f} tok/s; MFU xgen {mfu['xgen']:.1%}",
          file=sys.stderr, flush=True)
    return entry(f"{name}: training throughput", x, b, "tokens/s", ratio=x / b, target=">= 1.0", met=x / b >= 0.97,
                 baseline_name=baseline_name, precision=precision,
                 inputs=dict(inputs, step_gflop=round(flops / 1e9, 2), mfu={k: round(v, 4) for k, v in mfu.items()},
                             step_seconds={k: round(v, 4) for k, v in seconds.items()},
                             every_step_seconds={k: [round(x, 3) for x in v] for k, v in every.items()}),
                 notes="ratio = xgen / baseline; met within 3% (timing noise)")


def _peak(method: str, folder: str, runtime_file: str) -> None:
    """A training process for one method (3 xgen steps at `precision: auto`) on the backbone saved in
    `folder`, run under bench/peak.py; writes its RSS before loading (kB) to `runtime_file`."""
    from bench.common import OUT
    from xgen_cli.modeling.backbone import load_model
    from xgen_cli.modeling.methods import model as model_method
    from xgen_cli.modeling.methods import prompt as prompt_method
    from xgen_cli.training import resolve_precision

    status = Path("/proc/self/status").read_text().splitlines()
    Path(runtime_file).write_text(next(line.split()[1] for line in status if line.startswith("VmRSS:")))
    base = load_model(folder)
    if method == "model":
        module = model_method.build(base, None, MODEL_OPTIMIZER)
    else:
        module = prompt_method.build(base, None, PROMPT_OPTIMIZER, prompt_length=PROMPT_LENGTH,
                                     frozen_dtype="bfloat16" if method == "prompt-bf16" else "float32")
    XgenSteps(module, batch(base.config.vocab_size), resolve_precision("auto", "cpu"), OUT)(2)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--peak"]:
        _peak(*sys.argv[2:5])
