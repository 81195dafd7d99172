"""SIGKILL at 24 moments spread over a small run's life never leaves a file that does not parse or load,
and the same command then resumes the run to the uninterrupted run's results, bit for bit.

The moments: 18 at evenly spread fractions of an attempt's expected length (measured on an
uninterrupted run: start-up, then training and evaluation in proportion to the steps left), 3 as soon
as an evaluation has logged its first language (mid-evaluation), 3 as soon as a checkpoint's temp
file is created (mid-write). No
hook inside xgen: the test watches the run's stderr and folder from outside. The kills are chained,
four to a run folder: each attempt resumes what the previous one left, and a last attempt finishes
the run, to be compared with the uninterrupted run. An attempt that finishes before its kill (runs
vary in speed on a busy machine) ends its chain early, and that kill is tried again on a new one.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter

from forkserver import ForkServer
from runs_helpers import (
    SERVER_ENV,
    SMALL_RUN,
    alive,
    assert_same_results,
    check_files,
    err_has,
    wait_for,
    wait_for_created,
)

# Model tuning: checkpoints of a megabyte or so (weights and Adafactor state), so a write takes long
# enough to be caught; keep two, so pruning runs too. Greedy decoding of two languages: cheaper, and
# an evaluation still has a middle to be killed in.
RUN = SMALL_RUN + ["method=model", "keep_checkpoints=2", "eval.num_beams=1", "data.eval_langs=[en,ru]"]
STEPS = 8  # SMALL_RUN's
# Six chains of four kills: a triggered one on the fresh run, then three timed ones at evenly spread
# fractions (1/36 to 35/36) of the time the resumed attempt should take (start-up plus the steps left).
FRACTIONS = [(k + 0.5) / 18 for k in range(18)]
PLAN = [[("eval" if i % 2 else "checkpoint", None)] + [("timed", FRACTIONS[i + 6 * j]) for j in (2, 0, 1)]
        for i in range(6)]


def _temp_checkpoint(run_dir):
    folder = run_dir / "checkpoints"
    return lambda: folder.is_dir() and any(n.endswith(".tmp") and ".ckpt." in n for n in os.listdir(folder))


def _phase(run_dir, log) -> str:
    """What the killed attempt was doing, read from what it left."""
    if _temp_checkpoint(run_dir)():
        return "checkpoint write"
    if "[train] " not in open(f"{log}.err").read():
        return "start-up"
    rows = [json.loads(x) for x in (run_dir / "metrics.jsonl").read_text().splitlines()] \
        if (run_dir / "metrics.jsonl").exists() else []
    last = max((r["step"] for r in rows), default=0)
    if 0 < sum(r["step"] == last for r in rows) < 2:
        return "evaluation"
    return "training or evaluation"


def test_sigkill_at_24_moments_leaves_whole_files_and_a_resumable_run(cache_dir, tmp_path):
    system_tmp = tmp_path / "system-tmp"  # the children's TMPDIR: nothing may be left there
    system_tmp.mkdir()
    server = ForkServer({"XGEN_CACHE": str(cache_dir), "TMPDIR": str(system_tmp), **SERVER_ENV})
    try:
        # Two uninterrupted runs: the first builds the cached backbone, the second is timed.
        reference = tmp_path / "reference"
        assert server.wait(server.start(["train", *RUN, f"hydra.run.dir={reference}"], tmp_path / "ref")) == 0
        timed_log = tmp_path / "timed"
        pid = server.start(["train", *RUN, f"hydra.run.dir={tmp_path}/timed-run"], timed_log)
        began = time.monotonic()
        wait_for(pid, err_has(timed_log, "[train] "))
        start_up = time.monotonic() - began  # loading the backbone, data and metrics
        assert server.wait(pid) == 0
        length = time.monotonic() - began
        assert_same_results(tmp_path / "timed-run", reference)  # same seed, same bytes

        def expected_length(run_dir) -> float:
            done = max((int(p.stem.partition("=")[2]) for p in run_dir.glob("checkpoints/step=*.ckpt")), default=0)
            return start_up + (length - start_up) * (STEPS - done) / STEPS

        def attempt(run_dir, kind=None, fraction=0.0):
            """One `xgen train` into run_dir, killed as `kind` says (None: run to the end); exit code."""
            nonlocal attempts
            attempts += 1
            log, delay = tmp_path / f"attempt{attempts}", (fraction or 0) * expected_length(run_dir)
            pid = server.start(["train", *RUN, f"hydra.run.dir={run_dir}"], log)
            start = time.monotonic()
            if kind == "timed":
                wait_for(pid, lambda: time.monotonic() - start >= delay)
            elif kind == "eval":
                wait_for(pid, err_has(log, "[eval step"))
            elif kind == "checkpoint":
                wait_for_created(pid, run_dir / "checkpoints", ".step=")
            if kind and alive(pid):
                os.kill(pid, signal.SIGKILL)
            code = server.wait(pid)
            assert code in (0, -signal.SIGKILL), open(f"{log}.err").read()[-3000:]
            if code:
                phases[_phase(run_dir, log)] += 1
                checked_files.append(check_files(run_dir))
            return code

        attempts, phases, checked_files, chains = 0, Counter(), [], []
        for kills in PLAN:
            chains.append(tmp_path / f"chain{len(chains)}")
            for kind, fraction in kills:
                # A run that ends before its kill (runs vary in speed) gets it again, a little earlier.
                while attempt(chains[-1], kind, fraction) == 0:
                    chains.append(tmp_path / f"chain{len(chains)}")
                    fraction = fraction and 0.8 * fraction
            assert attempt(chains[-1]) == 0
    finally:
        server.close()

    checked = sum(checked_files)
    for run_dir in chains:
        checked += check_files(run_dir)
        assert_same_results(run_dir, reference)
        assert not list(run_dir.rglob("*.tmp")), "a killed writer's temp file outlived the next start"
    # Lightning's checkpoint writer left partial files here (fsspec's temp files); torch keeps a cache folder.
    assert not [p for p in system_tmp.iterdir() if p.is_file()]
    kills = sum(phases.values())
    print(f"\n{kills} SIGKILLs ({dict(phases)}) in {attempts} attempts, {checked} files checked, "
          f"{len(chains)} runs resumed to the end, all equal to the uninterrupted one")
    assert kills == sum(map(len, PLAN))
