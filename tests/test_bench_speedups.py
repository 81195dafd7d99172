"""What issue 9 changed to be faster or leaner gives the same results: compact training pairs give
the batches Python lists gave, the bit-parallel LCS picks rouge-score's LCS, and the thread budget
reaches torch."""

from __future__ import annotations

import os
import random
import subprocess
import sys

import numpy as np
import pytest
import torch
from conftest import MICRO_MODEL, REPO
from rouge_score import rouge_scorer

from xgen_cli.data.batching import TrainData
from xgen_cli.data.demo import generate_split
from xgen_cli.data.mixture import Labelled, Mixture
from xgen_cli.data.tasks import Pair, summarize, summarize_all
from xgen_cli.data.token_pairs import CHUNK, TokenPairs, tokenize_pairs
from xgen_cli.errors import XgenError
from xgen_cli.metrics.sp_rouge import _lcs_indices
from xgen_cli.threads import processes_sharing_cores, thread_budget


@pytest.fixture(scope="module")
def tokenizer(xgen, cache_dir, tmp_path_factory):
    from transformers import T5Tokenizer

    xgen("pretrain", "model=tiny", *MICRO_MODEL, f"hydra.run.dir={tmp_path_factory.mktemp('pretrain')}")
    (folder,) = [p for p in (cache_dir / "backbones").glob("tiny-*") if (p / "spiece.model").is_file()][:1]
    return T5Tokenizer.from_pretrained(str(folder))


def _batches(pairs, total: int) -> list[dict]:
    draws = Mixture([Labelled("summarize", 1.0, pairs, "en")], total, seed=3)
    return list(TrainData(draws, 8, 0).train_dataloader())


def test_compact_pairs_give_the_batches_lists_gave(tokenizer):
    # Several chunks, three epochs of shuffled draws, clipping on both sides (short caps).
    examples = [e for lang in ("en", "ru", "th") for e in generate_split(lang, "train", CHUNK // 2 + 7)]
    lists = [summarize(e, tokenizer, 40, 12) for e in examples]
    assert summarize_all(examples[:50], tokenizer, 40, 12) == lists[:50]  # the batch path tokenizes alike
    stored = tokenize_pairs(examples, tokenizer, 40, 12)
    assert len(stored) == len(lists) and [stored[i] for i in range(len(lists))] == lists
    assert stored.inputs.dtype == np.int32 and stored.nbytes < 0.2 * sum(36 * (len(a) + len(b)) for a, b in lists)
    before, after = _batches(lists, 3 * len(lists)), _batches(stored, 3 * len(lists))
    assert len(before) == len(after) == -(-3 * len(lists) // 8)
    for a, b in zip(before, after, strict=True):
        assert a.keys() == b.keys()
        for key in a:
            assert torch.equal(a[key], b[key]) if isinstance(a[key], torch.Tensor) else a[key] == b[key]


def test_token_pairs_index_like_a_list():
    pairs = TokenPairs.from_pairs([Pair([5, 6, 1], [7, 1]), Pair([1], [8, 9, 1])])
    assert pairs[-1] == ([1], [8, 9, 1]) and pairs[0].input_ids == [5, 6, 1] and len(pairs) == 2
    assert len(TokenPairs.from_pairs([])) == 0
    with pytest.raises(IndexError):
        pairs[2]


def test_bit_parallel_lcs_picks_rouge_scores_lcs():
    rng = random.Random(0)
    for _ in range(3000):
        ref = [rng.choice("abcdef"[:rng.randint(1, 6)]) for _ in range(rng.randint(0, rng.choice((12, 90))))]
        can = [rng.choice("abcdefg"[:rng.randint(1, 7)]) for _ in range(rng.randint(0, rng.choice((12, 90))))]
        expected = rouge_scorer._backtrack_norec(rouge_scorer._lcs_table(ref, can), ref, can) if ref and can else []
        assert sorted(_lcs_indices(ref, can)) == sorted(expected), (ref, can)


def test_thread_budget_order_and_bad_values(monkeypatch):
    monkeypatch.delenv("SLURM_CPUS_PER_TASK", raising=False)
    assert thread_budget(None) == (None, "")
    monkeypatch.setenv("SLURM_CPUS_PER_TASK", "3")
    assert thread_budget(None) == (3, "SLURM_CPUS_PER_TASK=3")
    assert thread_budget(1) == (1, "trainer.threads=1")  # an explicit setting wins
    assert thread_budget(None, processes=2) == (3, "SLURM_CPUS_PER_TASK=3")  # SLURM sized the task
    monkeypatch.delenv("SLURM_CPUS_PER_TASK")
    cores = os.cpu_count()
    assert thread_budget(None, processes=2) == (max(1, cores // 2), f"{cores} cores for 2 processes")
    assert processes_sharing_cores({"accelerator": "cpu", "devices": 2}) == 2  # trainer=ddp_cpu
    assert processes_sharing_cores({"accelerator": "gpu", "devices": 8}) == 1
    assert processes_sharing_cores({"accelerator": "cpu", "devices": 1}) == 1
    for bad in (0, -2, "two", 1.5, True):
        with pytest.raises(XgenError, match="trainer.threads"):
            thread_budget(bad)


def test_thread_budget_reaches_torch_from_slurm():
    code = ("import torch; from xgen_cli.threads import apply_thread_budget; apply_thread_budget(None); "
            "print(torch.get_num_threads(), torch.get_num_interop_threads())")
    env = {**os.environ, "SLURM_CPUS_PER_TASK": "1"}
    env.pop("OMP_NUM_THREADS", None)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, env=env, timeout=120)
    assert proc.stdout.split() == ["1", "1"] and "1 torch thread (SLURM_CPUS_PER_TASK=1)" in proc.stderr


def test_a_bad_thread_budget_is_one_line_before_any_folder(xgen, tmp_path):
    proc = xgen("train", "trainer.threads=0", f"hydra.run.dir={tmp_path / 'run'}", check=False)
    assert proc.returncode == 2 and not (tmp_path / "run").exists()
    assert proc.stderr.strip().splitlines() == [
        "xgen train: error: trainer.threads=0 must be a whole number >= 1 (torch threads for this run), "
        "or null for SLURM_CPUS_PER_TASK where set, else every core"]
