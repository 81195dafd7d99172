"""`max_tokens_per_pass`: a batch trained in several forward passes takes the step one pass takes
(fp32, no dropout), through the real Lightning loop with gradient accumulation; evaluation batches
are cut to the same bound; and batches pad to a multiple of WIDTH_MULTIPLE without changing the loss."""

from __future__ import annotations

import copy
import random

import lightning as L
import pytest
import torch
from one_step import TINY
from torch.utils.data import DataLoader

from xgen_cli.data.batching import WIDTH_MULTIPLE, Collator, pass_groups, row_lengths, rows_of
from xgen_cli.data.tasks import Pair
from xgen_cli.evaluation import Evaluator
from xgen_cli.modeling.backbone import new_tiny_mt5
from xgen_cli.modeling.methods import model as model_method
from xgen_cli.modeling.methods import prompt as prompt_method


def _pairs(n: int, seed: int = 0) -> list[Pair]:
    """Rows of very different lengths, as real text has (a long tail)."""
    rng = random.Random(seed)
    return [Pair([rng.randrange(3, TINY["vocab_size"]) for _ in range(rng.choice([3, 5, 11, 40, 70]))] + [1],
                 [rng.randrange(3, TINY["vocab_size"]) for _ in range(rng.randint(2, 9))] + [1]) for _ in range(n)]


def test_pass_groups_bound_the_padded_tokens_and_keep_every_row_once():
    lengths = [100, 7, 60, 60, 3, 250, 9]
    groups = pass_groups(lengths, 130)
    assert sorted(i for g in groups for i in g) == list(range(len(lengths)))
    assert groups[0] == [5]  # longer than the budget: a pass of its own
    assert all(len(g) * max(lengths[i] for i in g) <= 130 for g in groups[1:])
    assert pass_groups(lengths, None) == [list(range(len(lengths)))]


def test_a_slice_of_rows_pads_only_to_its_own_longest_row():
    batch = Collator(pad_id=0)(_pairs(8))
    assert batch["input_ids"].shape[1] % WIDTH_MULTIPLE == 0 and batch["labels"].shape[1] % WIDTH_MULTIPLE == 0
    short = min(range(8), key=lambda i: row_lengths(batch)[i])
    rows = rows_of(batch, [short])
    assert rows["input_ids"].shape[1] == WIDTH_MULTIPLE < batch["input_ids"].shape[1]
    assert rows["attention_mask"].sum() == batch["attention_mask"][short].sum()


@pytest.mark.parametrize("build", [model_method.build, prompt_method.build], ids=["model", "prompt"])
def test_several_passes_take_the_step_one_pass_takes(build):
    torch.manual_seed(0)
    backbone = new_tiny_mt5(**TINY)
    kwargs = {"prompt_length": 4} if build is prompt_method.build else {}
    collate = Collator(pad_id=0)
    batches = [collate(_pairs(8, seed)) for seed in (1, 2)]  # two batches accumulated into one step
    trained, start = {}, None
    for budget in (None, 100):
        module = build(copy.deepcopy(backbone), None, {"lr": 0.01, "scale_parameter": False, "relative_step": False},
                       **kwargs)
        start = start or {k: v.detach().clone() for k, v in module.state_dict().items()}
        module.max_tokens_per_pass = budget
        if budget is not None:
            assert len(pass_groups(row_lengths(batches[0]), budget)) > 2  # the bound does cut the batch
        trainer = L.Trainer(max_steps=1, accelerator="cpu", logger=False, enable_checkpointing=False,
                            enable_progress_bar=False, enable_model_summary=False, accumulate_grad_batches=2,
                            precision="32-true")
        trainer.fit(module, DataLoader(batches, batch_size=None))  # the batches as they are
        trained[budget] = ({k: v.detach().clone() for k, v in module.state_dict().items()},
                           float(trainer.callback_metrics["train/loss"]))
    (one, one_loss), (passes, passes_loss) = trained[None], trained[100]
    assert passes_loss == pytest.approx(one_loss, rel=1e-5)  # the logged loss is the batch's, not a pass's
    assert any(not torch.equal(one[k], start[k]) for k in one)  # the step did move the trained weights
    for key in one:
        torch.testing.assert_close(passes[key], one[key], rtol=1e-4, atol=1e-6)


def test_evaluation_batches_are_cut_to_the_bound_and_decode_the_same():
    torch.manual_seed(0)
    module = model_method.build(new_tiny_mt5(**TINY), None, {"lr": 0.01}).eval()

    class Tokenizer:
        pad_token_id = 0

        def batch_decode(self, out, skip_special_tokens=True):
            return [" ".join(map(str, row.tolist())) for row in out]

    pairs = _pairs(12, seed=3)
    outputs = {}
    for budget in (None, 150):
        evaluator = Evaluator({}, Tokenizer(), None, batch_size=8, max_new_tokens=4, num_beams=2,
                              max_tokens_per_pass=budget)
        batches = [idx for idx, _ in evaluator._batches(pairs, lockstep=False)]
        assert sorted(i for idx in batches for i in idx) == list(range(12))
        if budget is not None:
            assert all(len(idx) * max(len(pairs[i].input_ids) for i in idx) <= budget or len(idx) == 1 for idx in batches)
            assert len(batches) > 2
        outputs[budget] = evaluator.predict(module, [None] * 12, pairs)
    assert outputs[150][0] == outputs[None][0]
    assert outputs[150][1] == pytest.approx(outputs[None][1], rel=1e-5)


@pytest.mark.parametrize(("overrides", "message"), [
    (["max_tokens_per_pass=0"], "max_tokens_per_pass=0 must be a positive integer (padded tokens in one forward pass) or null"),
    (["max_tokens_per_pass=2048", "trainer=ddp_cpu"], "max_tokens_per_pass=2048 cuts one process's batch into passes, and 2 processes"),
])
def test_a_bad_bound_is_one_line_before_any_run_folder(xgen, tmp_path, overrides, message):
    proc = xgen("train", *overrides, f"hydra.run.dir={tmp_path}/run", check=False)
    assert proc.returncode != 0 and message in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "run").exists()
