"""What the resume and kill tests share: a small run's overrides, starting and signalling `xgen train`
children of a ForkServer, and the checks that a run folder's files are whole."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import yaml
from conftest import MICRO_MODEL

# 20 training pairs in batches of 8: 3 batches an epoch, so resumes land mid-epoch and across epochs.
# precision pinned: `auto` picks bf16 on CPUs with bf16 units, and results would differ per machine.
SMALL_RUN = MICRO_MODEL + [
    "steps=8", "eval_every=2", "batch_size=8", "data.corpus.n_train=20", "data.eval_examples=4",
    "max_new_tokens=8", "data.eval_langs=[en,ru,th]", "eval.num_beams=2", "trainer.precision=32-true",
    "logger=none",
]
# One torch thread per process: on a busy 2-core machine, two threads per process spin against each
# other (a 10x slowdown measured here). The same in every run compared, so results stay comparable.
SERVER_ENV = {"OMP_NUM_THREADS": "1"}


def alive(pid: int) -> bool:
    """Whether a child of the fork server still runs (a zombie has ended)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def wait_for(pid: int, condition, timeout: float = 120.0, every: float = 0.002) -> bool:
    """Poll `condition()` until it holds (True) or the child ends or time runs out (False)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end and alive(pid):
        if condition():
            return True
        time.sleep(every)
    return False


def err_has(log: Path, text: str):
    def holds() -> bool:
        try:
            return text in Path(f"{log}.err").read_text(errors="replace")
        except FileNotFoundError:  # the child has not opened it yet
            return False

    return holds


def signal_when(server, args: list[str], log: Path, condition_text: str, signum: int) -> int:
    """Start `xgen <args>`, send `signum` once its stderr shows `condition_text`; its exit code."""
    pid = server.start(args, log)
    assert wait_for(pid, err_has(log, condition_text)), Path(f"{log}.err").read_text()[-3000:]
    os.kill(pid, signum)
    return server.wait(pid)


def check_files(run_dir: Path) -> int:
    """Every file of a run folder is whole: JSON and YAML parse, each JSONL line parses, every
    checkpoint loads with torch.load(weights_only=True). Temp files (`.*.tmp`, a killed writer's)
    are skipped. Returns how many files were checked."""
    import torch

    checked = 0
    for path in sorted(p for p in run_dir.rglob("*") if p.is_file() and not p.name.endswith(".tmp")):
        if path.suffix == ".json":
            json.loads(path.read_text())
        elif path.suffix == ".jsonl":
            for line in path.read_text().splitlines():
                json.loads(line)
        elif path.suffix == ".yaml" and (run_dir / "run.json").exists():
            # Hydra writes .hydra/ non-atomically, before the run starts: a kill there leaves no
            # run.json, and the next attempt writes .hydra/ again.
            assert yaml.safe_load(path.read_text()) is not None, path
        elif path.suffix == ".ckpt":
            state = torch.load(path, map_location="cpu", weights_only=True)
            assert state["global_step"] > 0 and "xgen_rng" in state, path
        else:
            continue
        checked += 1
    return checked


def assert_same_results(run: Path, reference: Path) -> None:
    """Bit-identical metrics rows, selections and predictions."""
    assert (run / "metrics.jsonl").read_text() == (reference / "metrics.jsonl").read_text()
    summary, expected = (json.loads((d / "summary.json").read_text()) for d in (run, reference))
    assert summary["select"] == expected["select"]
    for path in (reference / "predictions").rglob("*.jsonl"):
        assert (run / path.relative_to(reference)).read_text() == path.read_text()


SIGNAL_EXIT = {signal.SIGTERM: 128 + signal.SIGTERM, signal.SIGUSR1: 128 + signal.SIGUSR1}


def wait_for_created(pid: int, folder: Path, prefix: str, timeout: float = 120.0) -> bool:
    """Block until a file named `prefix...` is created in `folder`, or the child ends (False).

    Linux inotify through libc: the test wakes within microseconds of the creation, where polling
    misses a checkpoint write that lasts a millisecond. `folder` may not exist yet (the run makes it).
    """
    import ctypes
    import select
    import struct

    libc = ctypes.CDLL(None, use_errno=True)
    if not wait_for(pid, folder.is_dir, timeout):
        return False
    fd = libc.inotify_init1(os.O_NONBLOCK)
    try:
        assert libc.inotify_add_watch(fd, bytes(folder), 0x100) >= 0  # IN_CREATE
        end = time.monotonic() + timeout
        while time.monotonic() < end and alive(pid):
            if not select.select([fd], [], [], 0.05)[0]:
                continue
            data, offset = os.read(fd, 1 << 16), 0
            while offset < len(data):  # struct inotify_event {int wd; u32 mask, cookie, len; char name[len]}
                length = struct.unpack_from("iIII", data, offset)[3]
                name = data[offset + 16: offset + 16 + length].rstrip(b"\0").decode()
                if name.startswith(prefix):
                    return True
                offset += 16 + length
        return False
    finally:
        os.close(fd)
