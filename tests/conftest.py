"""Shared test set-up: a micro tiny backbone (built once per session into a temporary cache), a
runner for the real `xgen` entry point, and a one-machine SLURM cluster (tests/slurm/)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

# MICRO_MODEL: a backbone that builds in seconds through the real build path (SentencePiece on the demo
# corpus, span corruption, prefix LM, save_pretrained), shrunk. One list for the tests and the
# benchmarks, so the bench test reuses the session's cached build.
from bench.common import MICRO_MODEL

REPO = Path(__file__).resolve().parents[1]

# A run of a few steps on a small slice of the demo corpus.
MICRO_RUN = MICRO_MODEL + [
    "steps=4", "eval_every=2", "batch_size=8", "data.eval_examples=6", "max_new_tokens=12",
    "data.corpus.n_train=48", "data.eval_langs=[en,ru,th]", "eval.num_beams=2",
]


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("xgen-cache")


@pytest.fixture(scope="session")
def xgen(cache_dir):
    """Run `xgen <args>` through the installed entry point; returns the CompletedProcess."""

    def run(*args: str, check: bool = True, cwd: Path | None = None, env: dict | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, "XGEN_CACHE": str(cache_dir), "PYTHONUNBUFFERED": "1", **(env or {})}
        proc = subprocess.run([sys.executable, "-m", "xgen_cli.cli", *args], capture_output=True, text=True,
                              env=env, cwd=cwd or REPO, timeout=600)
        if check and proc.returncode != 0:
            raise AssertionError(f"xgen {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr[-4000:]}")
        return proc

    return run


SLURM_COMMANDS = ("slurmctld", "slurmd", "sbatch", "scontrol", "munged", "mungekey")


@pytest.fixture(scope="session")
def slurm(tmp_path_factory):
    """A one-machine SLURM cluster for the session (tests/slurm/start.sh; partition `debug`): the
    environment its client commands need (SLURM_CONF, and PATH with a sacct stand-in)."""
    missing = [c for c in SLURM_COMMANDS if shutil.which(c) is None]
    if missing or os.geteuid() != 0:
        pytest.skip(f"the SLURM tests need root and Debian's SLURM packages ({', '.join(missing) or 'not root'}): "
                    "as root, apt-get install -y slurmctld slurmd slurm-client munge (.ci/run does this)")
    folder = tmp_path_factory.mktemp("slurm")
    start = subprocess.run(["bash", str(REPO / "tests/slurm/start.sh"), str(folder)], capture_output=True,
                           text=True, timeout=120)
    try:
        assert start.returncode == 0, f"tests/slurm/start.sh failed:\n{start.stdout}\n{start.stderr}"
        yield {"SLURM_CONF": str(folder / "slurm.conf"), "PATH": f"{folder / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    finally:
        subprocess.run(["bash", str(REPO / "tests/slurm/stop.sh"), str(folder)], capture_output=True, timeout=120)
