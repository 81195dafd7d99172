"""The CLI surface: command listing, Hydra help/--cfg without torch, config composition, errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from xgen_cli.cli import commands
from xgen_cli.commands._app import CONF_DIR
from xgen_cli.config_checks import train_problems

CONF = Path(CONF_DIR)
MODELS = sorted(p.stem for p in (CONF / "model").glob("*.yaml"))
METHODS = sorted(p.stem for p in (CONF / "method").glob("*.yaml"))


def test_every_command_has_a_primary_config_and_one_line_help():
    found = commands()
    assert {"train", "eval", "pretrain", "data", "table"} <= set(found)
    for name, help_line in found.items():
        assert (CONF / f"{name}.yaml").is_file(), name
        assert help_line and "\n" not in help_line


def test_methods_are_modules_of_the_same_name():
    modules = {p.stem for p in (Path(CONF_DIR).parent / "xgen_cli/modeling/methods").glob("*.py")} - {"__init__"}
    assert set(METHODS) == modules
    for method in METHODS:
        assert OmegaConf.load(CONF / "method" / f"{method}.yaml")._target_ == f"xgen_cli.modeling.methods.{method}.build"


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("method", METHODS)
def test_train_composes_for_every_model_and_method(model, method):
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose("train", overrides=[f"model={model}", f"method={method}"])
    if "stage1" in cfg.method:  # factorized prompts need their stage-1 file, named in one line
        assert [p for p in train_problems(cfg) if "objective=fp_prompts" in p and "method.stage1" in p]
        return
    assert train_problems(cfg) == []
    resolved = OmegaConf.to_container(cfg.model, resolve=True)
    if model != "tiny":
        family, _, size = model.rpartition("_")  # small, umt5_small, mt0_small
        publisher = {"": "google/mt5", "umt5": "google/umt5", "mt0": "bigscience/mt0"}[family]
        assert resolved["name_or_path"] == f"{publisher}-{size}"
        assert cfg.steps == 100000 and cfg.eval_every == 5000  # the paper's schedule


def _all_group_options():
    for group_dir in sorted(p for p in CONF.rglob("*") if p.is_dir()):
        if group_dir.name == "local":  # the user's own settings (git-ignored), composed by their launcher
            continue
        for option in sorted(group_dir.glob("*.yaml")):
            yield group_dir.relative_to(CONF).as_posix(), option.stem


# Groups that only one command's primary config has; every other group composes under train.
PRIMARY_OF_GROUP = {"baseline": "eval", "objective": "pretrain", "analysis": "analyze"}
# Groups whose options set keys elsewhere (`# @package _global_`): a sweep sets hydra.sweeper.params
# (tests/test_sweeps.py composes its jobs), a remedy overrides another group.
GLOBAL_GROUPS = {"sweep", "remedy"}


@pytest.mark.parametrize(("group", "option"), list(_all_group_options()))
def test_every_shipped_config_composes(group, option):
    primary = PRIMARY_OF_GROUP.get(group, "train")
    if group == "sweep":  # a sweep file for another command names it
        primary = OmegaConf.load(CONF / "sweep" / f"{option}.yaml").hydra.sweeper.get("command") or primary
    with initialize_config_dir(config_dir=CONF_DIR, version_base="1.3"):
        cfg = compose(primary, overrides=[f"{group}={option}"], return_hydra_config=True)
    if group not in GLOBAL_GROUPS:
        assert OmegaConf.select(cfg, group.replace("/", ".")) is not None or option == "none"


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "xgen_cli.cli", *args], capture_output=True, text=True, timeout=120)


def test_help_lists_commands():
    out = _cli("--help")
    assert out.returncode == 0
    for name in ("train", "eval", "pretrain", "data", "table"):
        assert f"  {name}" in out.stdout


def test_cfg_job_composes_xxl_prompt_without_torch():
    # -X importtime would be noisy; instead ask the interpreter which modules got imported.
    code = ("import sys; from xgen_cli.cli import main; sys.argv=['xgen','train','model=xxl','method=prompt','--cfg','job'];"
            "\ntry: main()\nexcept SystemExit: pass\nprint('TORCH' if 'torch' in sys.modules else 'NO-TORCH')")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert "name_or_path: google/mt5-xxl" in out.stdout
    assert "prompt_length: 100" in out.stdout
    assert out.stdout.strip().endswith("NO-TORCH")


def test_command_help_shows_config_groups():
    out = _cli("train", "--help")
    assert out.returncode == 0
    for group in ("model:", "method:", "data:", "trainer:", "logger:"):
        assert group in out.stdout


def test_unknown_command_is_one_line_error():
    out = _cli("trian")
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "unknown command 'trian'" in out.stderr


def test_unknown_override_is_refused():
    out = _cli("train", "modle=tiny")
    assert out.returncode != 0
    assert "modle" in out.stderr


def test_config_problems_are_reported_together_before_loading_anything(tmp_path):
    out = _cli("train", "trainer.precision=16-mixed", "method.prompt_length=0", f"hydra.run.dir={tmp_path}/run")
    assert out.returncode == 2
    line = out.stderr.strip().splitlines()[-1]
    assert "2 config problems" in line and "fp16" in line and "prompt_length" in line
    assert not (tmp_path / "run" / "run.json").exists()  # refused before the run started


@pytest.mark.parametrize(("args", "expected"), [
    (["train", "method=foo"], "xgen train: error: unknown method=foo: choose one of fp, fp_en, model, prompt"),
    (["train", "-m", "method=model,prompt2"], "unknown method=prompt2: choose one of"),
    (["pretrain", "objective=fp"], "unknown objective=fp: choose one of backbone, fp_prompts"),
    (["eval", "baseline=lead32"], "unknown baseline=lead32: choose one of lead64"),
    (["train", "modle=tiny"], "unknown key modle for xgen train: did you mean model?"),
    (["data", "demoo"], "unknown data=demoo: choose one of demo, jsonl, wikilingua0"),
])
def test_unknown_choices_and_keys_are_one_line_naming_the_valid_ones(args, expected, tmp_path):
    out = _cli(*args, f"hydra.run.dir={tmp_path}/run")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.count("\n") == 1 and expected in out.stderr
    assert not (tmp_path / "run").exists()


def test_overrides_of_nested_keys_and_sweeps_pass_the_check():
    from xgen_cli.overrides import override_problems

    assert override_problems("train", ["model.build.vocab_size=10", "method=model,prompt", "seed=range(3)",
                                       "+extra=1", "hydra.run.dir=x", "intermediate.corpus.demo=true",
                                       "mixing=choice(none,unsup)", "data.corpus.path=/x"]) == []


def test_an_empty_predictions_file_is_an_error_not_a_score_of_zero(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n")
    out = _cli("eval", f"predictions={empty}", "lang=ru", f"hydra.run.dir={tmp_path}/run")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"{empty} holds no predictions" in out.stderr.strip().splitlines()[-1]
    assert not (tmp_path / "run" / "summary.json").exists()


def test_a_folder_value_with_equals_signs_is_quoted_for_hydra():
    from xgen_cli.overrides import quote_folder_values

    args = ["run=out/sweep/method=model/seed=0", "seed=0", "runs=[a,b]", "x='k=v'", "--cfg", "+y=a=b c"]
    assert quote_folder_values(args) == ["run='out/sweep/method=model/seed=0'", "seed=0", "runs=[a,b]", "x='k=v'",
                                         "--cfg", "+y='a=b c'"]
