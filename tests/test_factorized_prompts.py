"""Factorized prompts (paper.md, Remedies): stage-1 files, the frozen parts of stage 2, the language
swap at evaluation, and the errors a user can meet; then both stages through the real CLI."""

from __future__ import annotations

import json

import pytest
import torch
from conftest import MICRO_MODEL, MICRO_RUN

from xgen_cli.errors import XgenError
from xgen_cli.modeling.backbone import new_tiny_mt5
from xgen_cli.modeling.factorized import (
    INDEX_FILE,
    FactorizedPromptPretraining,
    backbone_fingerprint,
    init_subprompts,
    save_subprompts,
)
from xgen_cli.modeling.methods import fp, fp_en
from xgen_cli.modeling.soft_prompt import SoftPrompt

ARCH = {"d_model": 32, "d_ff": 64, "d_kv": 8, "num_heads": 4, "num_layers": 1, "num_decoder_layers": 1}
LANGS = ["en", "ru", "th"]
TASKS = ["span_corruption", "lm"]
OPTIMIZER = {"lr": 0.3, "decay_rate": -0.8, "scale_parameter": False, "relative_step": False, "warmup_init": False,
             "clip_threshold": 1.0, "weight_decay": 1e-5}


def _backbone(seed=0):
    return new_tiny_mt5(vocab_size=200, seed=seed, **ARCH)


@pytest.fixture
def stage1(tmp_path):
    backbone = _backbone()
    prompt = SoftPrompt(init_subprompts(LANGS, TASKS, 3, 2, 32, 0.5, seed=0))
    save_subprompts(tmp_path, prompt, LANGS, TASKS, 3, 2, backbone_fingerprint(backbone), {})
    return tmp_path, prompt


def _batch(n=2):
    ids = torch.tensor([[5, 6, 7, 1]] * n)
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": torch.tensor([[8, 9, 1]] * n)}


def test_stage_two_trains_the_task_part_and_leaves_the_language_parts_bitwise(stage1):
    folder, saved = stage1
    module = fp.build(_backbone(), None, OPTIMIZER, stage1=str(folder))
    # The new task sub-prompt starts as stage 1's span-corruption sub-prompt.
    assert torch.equal(module.prompt.parts["task"].data, saved.parts["task:span_corruption"].data)
    before = {name: p.detach().clone() for name, p in module.named_parameters()}
    optimizer = module.configure_optimizers()
    for lang in ("en", "ru"):  # rows of two languages, so the ru sub-prompt is in the graph too
        optimizer.zero_grad()
        module.loss({**_batch(), "lang": [lang, lang]}).backward()
        optimizer.step()
    after = dict(module.named_parameters())
    changed = {name for name in before if not torch.equal(before[name], after[name].detach())}
    assert changed == {"prompt.parts.task"}
    assert module.checkpoint_keys() == {"prompt.parts.task"}


def test_evaluation_swaps_in_the_target_language_and_fp_en_keeps_english(stage1):
    folder, _ = stage1
    batch = _batch(1)

    def embeds(module, lang):
        return module.encoder_inputs(batch["input_ids"], batch["attention_mask"], [lang])["inputs_embeds"]

    swap = fp.build(_backbone(), None, OPTIMIZER, stage1=str(folder))
    assert torch.equal(embeds(swap, "en"), embeds(swap, None))  # training rows are English
    assert not torch.equal(embeds(swap, "ru"), embeds(swap, "en"))
    assert torch.equal(embeds(swap, "ru")[0, :3], swap.prompt.parts["lang:ru"].data)
    keep = fp_en.build(_backbone(), None, OPTIMIZER, stage1=str(folder))
    assert torch.equal(embeds(keep, "ru"), embeds(keep, "en"))
    with pytest.raises(XgenError, match="no language 'vi'.*en, ru, th"):
        embeds(swap, "vi")


def test_stage_one_rows_use_their_own_language_and_task(stage1):
    _, prompt = stage1
    module = FactorizedPromptPretraining(_backbone(), prompt, OPTIMIZER)
    batch = _batch(2)
    out = module.encoder_inputs(batch["input_ids"], batch["attention_mask"], ["ru", "th"], ["lm", "span_corruption"])
    e = out["inputs_embeds"]
    assert e.shape[1] == 3 + 2 + 4 and out["attention_mask"].shape == (2, 9)
    assert torch.equal(e[0, :3], prompt.parts["lang:ru"].data) and torch.equal(e[0, 3:5], prompt.parts["task:lm"].data)
    assert torch.equal(e[1, :3], prompt.parts["lang:th"].data)
    assert torch.equal(e[1, 3:5], prompt.parts["task:span_corruption"].data)


def test_stage_one_file_of_another_backbone_is_refused(stage1):
    folder, _ = stage1
    with pytest.raises(XgenError, match="trained with another backbone.*embedding_sha1"):
        fp.build(_backbone(seed=1), None, OPTIMIZER, stage1=str(folder))


def test_missing_stage_one_file_names_it_and_the_fix(tmp_path):
    with pytest.raises(XgenError, match=f"{tmp_path}.*no {INDEX_FILE}.*objective=fp_prompts"):
        fp.build(_backbone(), None, OPTIMIZER, stage1=str(tmp_path))


@pytest.fixture(scope="module")
def fp_stage1_run(xgen, tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("fp-stage1")
    proc = xgen("pretrain", "objective=fp_prompts", "objective.steps=3", "objective.batch_size=4",
                "objective.lang_length=2", "objective.task_length=2", "objective.langs=[en,ru,th]",
                "objective.max_tokens=32", *MICRO_MODEL, f"hydra.run.dir={run_dir}")
    return run_dir, proc


def test_stage_one_through_the_cli_saves_every_part_with_its_index(fp_stage1_run):
    run_dir, proc = fp_stage1_run
    index = json.loads((run_dir / INDEX_FILE).read_text())
    assert index["languages"] == ["en", "ru", "th"] and len(index["tasks"]) == 7
    assert sum(index["draws"].values()) == 3 * 4
    from safetensors.torch import load_file

    parts = load_file(str(run_dir / "fp_prompts.safetensors"))
    assert set(parts) == {f"lang:{x}" for x in index["languages"]} | {f"task:{t}" for t in index["tasks"]}
    assert all(v.shape[0] == 2 for v in parts.values())
    assert f"method.stage1={run_dir}" in proc.stdout


@pytest.mark.parametrize("method", ["fp", "fp_en"])
def test_stage_two_through_the_cli(xgen, fp_stage1_run, tmp_path, method):
    stage1_dir, _ = fp_stage1_run
    proc = xgen("train", f"method={method}", f"method.stage1={stage1_dir}", *MICRO_RUN, f"hydra.run.dir={tmp_path}")
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["identity"]["method"] == method and summary["identity"]["prompt_length"] == 4
    assert set(summary["select"]["target"]) == {"en", "ru", "th"}
    state = torch.load(tmp_path / "checkpoints" / "last.ckpt", weights_only=True)
    assert set(state["state_dict"]) == {"prompt.parts.task"}  # only the trained part
    assert {"fp": "PROMPT+FP  ", "fp_en": "PROMPT+FP-EN"}[method] in proc.stdout  # the table's row label


def test_stage_two_refuses_an_evaluation_language_stage_one_lacks(xgen, fp_stage1_run, tmp_path):
    stage1_dir, _ = fp_stage1_run
    proc = xgen("train", "method=fp", f"method.stage1={stage1_dir}", *MICRO_RUN, "data.eval_langs=[en,vi]",
                f"hydra.run.dir={tmp_path}/run", check=False)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    line = proc.stderr.strip().splitlines()[-1]
    assert "fp_prompts.safetensors has no sub-prompt for vi (it has en, ru, th)" in line
    assert not (tmp_path / "run" / "run.json").exists()
