"""On a GPU: xgen's training step under `trainer=fsdp` (Lightning's FSDPStrategy built by
xgen_cli.training.fsdp_strategy, each mT5 block a unit) beside the same step under `trainer=gpu`,
for model and prompt tuning on the mT5-base architecture (MT5Config, random weights), bf16-mixed.

FSDP cannot run on a CPU (Lightning refuses it), so the CPU test suite never trains under it: this
is the check. One process, one GPU: FSDP's wrapping, flat parameters, mixed-precision policy and
activation checkpointing all run, its collectives are trivial. Per arm: the loss at every step
(the arms start from the same weights and batches, so FSDP must track the plain step), step time,
peak GPU memory, and after training a beam search the way xgen's evaluation runs it (the root
unit's weights gathered by full_root_params, bf16 autocast; xgen_cli.evaluation itself needs
gcld3, which the GPU machine lacks): the share of its tokens equal to the
plain arm's. `python -m bench.gpu_fsdp [--out DIR]` writes DIR/gpu_fsdp.json and prints it;
`--quick` runs the plain arm alone on a toy size on the CPU (tests/test_bench.py).
"""

from __future__ import annotations

import copy
import json
import time

from bench.common import MT5_BASE, mt5_architecture
from bench.gpu_prompt_tuning import OPTIMIZER, QUICK, command_line, sync

# conf/method/model.yaml's optimizer (the paper: Adafactor at a constant 0.001).
MODEL_OPTIMIZER = dict(lr=1e-3, scale_parameter=False, relative_step=False, warmup_init=False)
SIZES = {"full": (8, 512, 128, 100, 12), "quick": (2, 16, 8, 4, 3)}  # batch, input, target, prompt length, steps


def main() -> None:
    import lightning as L
    import torch

    from xgen_cli.data.batching import TrainData
    from xgen_cli.data.tasks import TaggedPair
    from xgen_cli.distributed import full_root_params
    from xgen_cli.modeling.methods import model as model_method
    from xgen_cli.modeling.methods import prompt as prompt_method
    from xgen_cli.training import build_trainer, fsdp_strategy

    quick, out, device = command_line("the plain arm alone, a toy size, on the CPU")
    BATCH, INPUT_TOKENS, TARGET_TOKENS, PROMPT_LENGTH, STEPS = SIZES["quick" if quick else "full"]
    base = mt5_architecture(QUICK if quick else MT5_BASE, seed=0)  # untied, as google/mt5-base
    config = base.config
    g = torch.Generator().manual_seed(0)
    draws = [TaggedPair(torch.randint(3, config.vocab_size, (INPUT_TOKENS,), generator=g).tolist(),
                        torch.randint(3, config.vocab_size, (TARGET_TOKENS,), generator=g).tolist(), "summarize", "en")
             for _ in range(BATCH * STEPS)]
    builders = {"model": lambda: model_method.build(copy.deepcopy(base), None, MODEL_OPTIMIZER),
                "prompt": lambda: prompt_method.build(copy.deepcopy(base), None, OPTIMIZER, prompt_length=PROMPT_LENGTH)}
    arms = {"gpu": lambda: "auto"} if quick else {
        "gpu": lambda: "auto", "fsdp": lambda: fsdp_strategy(),
        "fsdp+checkpointing": lambda: fsdp_strategy(activation_checkpointing=True)}

    class Record(L.Callback):
        def __init__(self):
            self.losses, self.seconds = [], []

        def on_train_batch_start(self, *args):
            sync(device)
            self.start = time.perf_counter()

        def on_train_batch_end(self, trainer, module, outputs, *args):
            sync(device)
            self.seconds.append(time.perf_counter() - self.start)
            self.losses.append(float(outputs["loss"] if isinstance(outputs, dict) else outputs))

        def on_train_end(self, trainer, module):
            ids = torch.tensor([d.input_ids for d in draws[:BATCH]], device=module.device)
            with torch.no_grad(), full_root_params(trainer), torch.autocast(device, dtype=torch.bfloat16):
                self.generated = module.generate(ids, torch.ones_like(ids), None, max_new_tokens=8, num_beams=4).cpu()

    result = {"device": torch.cuda.get_device_name() if device == "cuda" else "cpu (--quick)",
              "torch": torch.__version__, "lightning": L.__version__, "precision": "bf16-mixed",
              "inputs": {"architecture": "mt5-base config, random weights" if not quick else QUICK, "batch": BATCH,
                         "input_tokens": INPUT_TOKENS, "target_tokens": TARGET_TOKENS, "steps": STEPS},
              "methods": {}}
    for method, build in builders.items():
        rows, generated = {}, {}
        for arm, strategy in arms.items():
            if device == "cuda":
                torch.cuda.empty_cache()
                torch.cuda.reset_peak_memory_stats()
            record = Record()
            trainer = build_trainer({"accelerator": "gpu" if device == "cuda" else "cpu", "devices": 1,
                                     "strategy": strategy(), "precision": "bf16-mixed"},
                                    max_steps=STEPS, root_dir=out / "runs" / "gpu-fsdp", callbacks=[record],
                                    progress_bar=False)
            module = build()
            torch.manual_seed(1)  # the same dropout masks in every arm (CUDA's generator too)
            trainer.fit(module, TrainData(list(draws), BATCH, 0))
            steady = sorted(record.seconds[1:] or record.seconds)
            rows[arm] = {"losses": [round(x, 5) for x in record.losses], "median_step_s": round(steady[len(steady) // 2], 4),
                         "peak_gpu_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2) if device == "cuda" else None}
            generated[arm] = record.generated
            print(f"{method} {arm}: losses {rows[arm]['losses'][:3]}..{rows[arm]['losses'][-1]}, "
                  f"{rows[arm]['median_step_s']} s/step, peak {rows[arm]['peak_gpu_gb']} GB", flush=True)
            del trainer
        plain = rows["gpu"]["losses"]
        for arm, row in rows.items():
            row["max_abs_loss_diff_vs_gpu"] = round(max(abs(a - b) for a, b in zip(row["losses"], plain, strict=True)), 5)
            ours, theirs = generated[arm], generated["gpu"]
            row["beam_tokens_equal_to_gpu"] = round(float((ours == theirs).float().mean()), 3) \
                if ours.shape == theirs.shape else 0.0
        result["methods"][method] = rows
    (out / "gpu_fsdp.json").write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
