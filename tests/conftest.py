"""Shared test set-up: a micro tiny backbone (built once per session into a temporary cache) and a
runner for the real `xgen` entry point."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

# A backbone small enough to build in seconds: the real build path (SentencePiece on the demo corpus,
# span corruption, prefix LM, save_pretrained), shrunk.
MICRO_MODEL = [
    "model.build.architecture.d_model=64", "model.build.architecture.d_ff=128",
    "model.build.architecture.num_layers=2", "model.build.architecture.num_decoder_layers=2",
    "model.build.architecture.num_heads=2", "model.build.pretrain.span_corruption_steps=4",
    "model.build.pretrain.prefix_lm_steps=2", "model.build.sample.max_texts=200", "model.build.vocab_size=1000",
]
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

    def run(*args: str, check: bool = True, cwd: Path | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, "XGEN_CACHE": str(cache_dir), "PYTHONUNBUFFERED": "1"}
        proc = subprocess.run([sys.executable, "-m", "xgen_cli.cli", *args], capture_output=True, text=True,
                              env=env, cwd=cwd or REPO, timeout=600)
        if check and proc.returncode != 0:
            raise AssertionError(f"xgen {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr[-4000:]}")
        return proc

    return run
