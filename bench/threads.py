"""9. Runs sharing a machine: aggregate throughput of 1, 2 and 4 concurrent demo-sized `xgen train`
runs, each with torch's default threads (one per core: what every run did before issue 9) vs a thread
budget that splits the cores (`trainer.threads=<cores / runs>`, xgen_cli/threads.py).

Throughput is runs finished per minute of wall time for the whole group; the entry compares the
budget with the default at the largest group, and both with one run alone (inputs).
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

from bench.common import MICRO_MODEL, REPO, entry, median, micro_backbone, xgen_env

GROUPS, QUICK_GROUPS = (1, 2, 4), (1,)
ROUNDS, QUICK_ROUNDS = 2, 1
# A demo run, shortened: training steps, then evaluation (beam search) in two languages.
RUN = ["steps=10", "batch_size=16", "eval_every=10", "data.eval_langs=[en,ru]", "data.eval_examples=4",
       "max_new_tokens=16", "logger=none", "trainer.precision=32-true"]
QUICK_RUN = ["steps=2", "batch_size=4", "eval_every=2", "data.eval_langs=[en]", "data.eval_examples=2",
             "max_new_tokens=4", "eval.num_beams=1", "logger=none", "trainer.precision=32-true",
             "data.corpus.n_train=16"]


def group_seconds(k: int, threads: int | None, out: Path, quick: bool) -> float:
    """Wall time for k concurrent runs to finish."""
    env = {key: value for key, value in os.environ.items() if key not in ("OMP_NUM_THREADS", "SLURM_CPUS_PER_TASK")}
    env.update(xgen_env())
    budget = [f"trainer.threads={threads}"] if threads else []
    procs = []
    start = time.perf_counter()
    for i in range(k):
        folder = out / "runs" / f"threads-{k}x-{threads or 'default'}-{i}-{random.randrange(16**6):06x}"
        procs.append(subprocess.Popen([sys.executable, "-m", "xgen_cli.cli", "train", *MICRO_MODEL,
                                       *(QUICK_RUN if quick else RUN), *budget, f"hydra.run.dir={folder}"],
                                      cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        err = proc.communicate()[1]
        if proc.returncode != 0:
            raise RuntimeError(f"xgen train exited {proc.returncode}: {err[-1500:]}")
    return time.perf_counter() - start


def run(quick: bool, out: Path) -> list[dict]:
    micro_backbone()
    cores = os.cpu_count() or 1
    groups = QUICK_GROUPS if quick else GROUPS
    seconds: dict[tuple[int, str], list[float]] = {}
    for _ in range(QUICK_ROUNDS if quick else ROUNDS):
        for k in groups:  # interleaved: default and budget back to back at each size
            for name, threads in (("default", None), ("budget", max(1, cores // k))):
                if threads == cores:  # one run alone: its budget is every core, torch's default
                    continue
                seconds.setdefault((k, name), []).append(group_seconds(k, threads, out, quick))
    for k in groups:
        seconds.setdefault((k, "budget"), seconds[(k, "default")])
    per_minute = {key: 60 * key[0] / median(values) for key, values in seconds.items()}
    alone = per_minute[(1, "default")]
    for (k, name), value in sorted(per_minute.items()):
        print(f"  threads: {k} concurrent, {name}: {value:.2f} runs/min ({value / alone:.2f}x one alone)",
              file=sys.stderr, flush=True)
    k = max(groups)
    x, b = per_minute[(k, "budget")], per_minute[(k, "default")]
    return [entry(f"{k} concurrent demo-sized runs on {cores} cores: aggregate throughput", x, b, "runs/min",
                  ratio=x / b, target="budget >= default; aggregate >= one alone", met=x >= b and x >= 0.95 * alone,
                  baseline_name="torch's default threads (one per core in every run)",
                  inputs={"groups": list(groups), "run": QUICK_RUN if quick else RUN, "backbone": "micro",
                          "budget": {str(g): max(1, cores // g) for g in groups},
                          "runs_per_min": {f"{g}x {n}": round(v, 3) for (g, n), v in sorted(per_minute.items())},
                          "vs_one_alone": {f"{g}x {n}": round(v / alone, 3) for (g, n), v in sorted(per_minute.items())},
                          "rounds": len(seconds[(k, 'budget')])},
                  notes="ratio = budget / default (runs per minute)")]
