"""What every command shares at its entry: the Hydra app decorator and the user-error boundary."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from xgen_cli.errors import XgenError

CONF_DIR = str(Path(__file__).resolve().parents[2] / "conf")


def xgen_app(config_name: str):
    """`@hydra.main` on conf/<config_name>.yaml, printing an XgenError as one line with exit 2."""

    def decorate(run):
        @functools.wraps(run)
        def task(cfg: DictConfig) -> None:
            try:
                run(cfg)
            except XgenError as exc:
                print(f"xgen {config_name}: error: {exc}", file=sys.stderr)
                sys.exit(2)

        return hydra.main(version_base="1.3", config_path=CONF_DIR, config_name=config_name)(task)

    return decorate


def output_dir() -> Path:
    from hydra.core.hydra_config import HydraConfig

    return Path(HydraConfig.get().runtime.output_dir)


def run_identity(cfg: DictConfig) -> dict:
    """What places a run in a table: the config group choices and the knobs sweeps vary, so tables
    and sweeps never need to read a run's config."""
    from hydra.core.hydra_config import HydraConfig

    choices = HydraConfig.get().runtime.choices
    identity = {group: choices.get(group) for group in ("model", "method", "data", "trainer", "mixing", "intermediate")}
    identity["seed"] = cfg.seed
    identity["prompt_length"] = cfg.method.get("prompt_length")
    if "stage1" in cfg.method:  # factorized prompts: [language ; task] sub-prompts from stage 1
        from xgen_cli.modeling.factorized import read_stage1_index

        index = read_stage1_index(cfg.method.stage1)
        identity["prompt_length"] = index["lang_length"] + index["task_length"]
        identity["stage1"] = str(cfg.method.stage1)
    identity["name_or_path"] = cfg.model.get("name_or_path")
    identity["steps"] = cfg.get("steps")
    identity["mixing_rate"] = cfg.mixing.rate if "mixing" in cfg else None
    identity["intermediate_steps"] = cfg.intermediate.get("steps") if "intermediate" in cfg else None
    identity["train_lang"] = cfg.get("train_lang")
    return identity
