"""What every command shares at its entry: the Hydra app decorator, the user-error boundary, and the
gate that checks a run folder before Hydra writes into it."""

from __future__ import annotations

import functools
import secrets
import sys
from pathlib import Path

import hydra
from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from xgen_cli import launchers
from xgen_cli.errors import XgenError, report
from xgen_cli.overrides import groups_help, quote_value
from xgen_cli.runs.config_diff import config_differences, first_few
from xgen_cli.sweeps import sweep_subdir
from xgen_cli.threads import apply_thread_budget, processes_sharing_cores

CONF_DIR = str(Path(__file__).resolve().parents[2] / "conf")


@functools.cache
def _random_tag() -> str:
    """Default run folders end in `${random_tag:}`: two runs started in the same second (the folder
    name's resolution) must not share a folder. Drawn at the first use in a process (not at import,
    which a forked process shares with its parent) and the same at every later use."""
    return secrets.token_hex(2)


# use_cache: a launcher that composes each job again (submitit, in the job's own process) copies the
# sweep's cached values into it, so every job resolves the same sweep folder.
OmegaConf.register_new_resolver("random_tag", _random_tag, replace=True, use_cache=True)
OmegaConf.register_new_resolver("sweep_subdir", sweep_subdir, replace=True)
OmegaConf.register_new_resolver("slurm_tasks_per_node", launchers.tasks_per_node, replace=True)
OmegaConf.register_new_resolver("slurm_gpus_per_node", launchers.gpus_per_node, replace=True)
# `${command_groups:<command>}` in a command's hydra.help.template: only the groups it composes (Hydra's
# $APP_CONFIG_GROUPS lists every folder of conf/, most of which that command ignores).
OmegaConf.register_new_resolver("command_groups", groups_help, replace=True)

def xgen_app(config_name: str):
    """`@hydra.main` on conf/<config_name>.yaml, printing an XgenError as one line with exit 2, and
    expanding `resume=<run dir>` (see `expand_resume`) before Hydra reads the command line."""

    def decorate(run):
        @functools.wraps(run)
        def task(cfg: DictConfig) -> None:
            try:
                # Before the command builds anything: torch fixes its inter-op pool at first use.
                apply_thread_budget(OmegaConf.select(cfg, "trainer.threads"),
                                    processes_sharing_cores(OmegaConf.select(cfg, "trainer")))
                run(cfg)
            except XgenError as exc:
                report(config_name, exc)

        hydra_main = hydra.main(version_base="1.3", config_path=CONF_DIR, config_name=config_name)(task)

        @functools.wraps(run)
        def main() -> None:
            try:
                sys.argv = expand_resume(sys.argv)
            except XgenError as exc:
                report(config_name, exc)
            hydra_main()

        return main

    return decorate


def expand_resume(argv: list[str]) -> list[str]:
    """`xgen train resume=<dir> [overrides]` runs that folder's saved overrides (its
    .hydra/overrides.yaml), then the given ones, into `hydra.run.dir=<dir>`: the same command as
    the first attempt's, so the gate finds the config unchanged and the run resumes."""
    given = [a for a in argv[1:] if a.startswith("resume=")]
    if not given:
        return argv
    folder = Path(given[-1].partition("=")[2].strip("'\"")).expanduser()
    saved = folder / ".hydra" / "overrides.yaml"
    if not saved.is_file():
        raise XgenError(f"resume={folder}: no .hydra/overrides.yaml there: point resume= at a folder written by xgen train")
    if any(a.startswith("hydra.run.dir=") for a in argv[1:]):
        raise XgenError("resume=<dir> continues the run in its own folder: drop hydra.run.dir=")
    overrides = [o for o in OmegaConf.to_container(OmegaConf.load(saved)) if not o.startswith("resume=")]
    return [argv[0], *overrides, *argv[1:], f"hydra.run.dir={quote_value(str(folder))}"]


class RunFolderGate(Callback):
    """Checks a run's folder before Hydra writes into it (`hydra.callbacks` in the command's YAML).

    Hydra calls `on_run_start` after composing the config and before `run_job` creates the folder
    and writes .hydra/ into it, so a refused run leaves no trace: a config error creates no folder,
    and a finished run's .hydra/ is never overwritten. In order: the command's config checks; the
    folder (a finished run, a live one, one that is not a run's, one that cannot be written: see
    RunDir.check_target); for an unfinished run, the config must equal the saved one (else an error
    naming the differing keys), and Hydra is told not to rewrite .hydra/ (the first attempt's stays).
    `hydra.run.dir` is resolved here once and pinned, so the folder checked is the folder used.
    Multirun jobs are checked by xgen's sweeper before any is launched (xgen_cli/sweeps.py); the
    task's own checks (RunDir.start) still refuse a finished or live run there.
    """

    def __init__(self, command: str, problems: str | None = None):
        self.command, self.problems = command, problems

    def on_run_start(self, config: DictConfig, **kwargs) -> None:
        from xgen_cli.runs.run_dir import is_rank_zero

        if not is_rank_zero():  # a rank > 0 (started by Lightning, or a SLURM task): it joins rank 0's folder
            return
        try:
            self._check(config)
        except XgenError as exc:
            report(self.command, exc)  # SystemExit: Hydra turns other exceptions from callbacks into warnings

    def _check(self, config: DictConfig) -> None:
        from hydra.core.hydra_config import HydraConfig
        from hydra.utils import get_method

        from xgen_cli.config_checks import check
        from xgen_cli.runs.run_dir import RunDir

        HydraConfig.instance().set_config(config)  # for ${hydra:...} in the folder's name
        if self.problems:
            check(get_method(self.problems)(config))
        folder = str(config.hydra.run.dir)
        with read_write(config.hydra), open_dict(config.hydra):
            config.hydra.run.dir = folder
        if not RunDir(folder).check_target():
            return
        saved_file = Path(folder) / ".hydra" / "config.yaml"
        try:
            saved = OmegaConf.to_container(OmegaConf.load(saved_file))
        except Exception as e:
            raise XgenError(f"cannot read {saved_file} ({type(e).__name__}), so cannot tell whether this run may "
                            "continue there: restore it or choose another hydra.run.dir") from None
        new = OmegaConf.to_container(config)
        new.pop("hydra")
        differences = config_differences(saved, new)
        if differences:
            raise XgenError(f"{folder} holds an unfinished run with another config ({first_few(differences)}): "
                            f"continue it with xgen {self.command} resume={folder}, or choose another hydra.run.dir")
        with read_write(config.hydra), open_dict(config.hydra):
            config.hydra.output_subdir = None


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
