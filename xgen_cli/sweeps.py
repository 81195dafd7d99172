"""Sweeps (`xgen train -m sweep=<name>`): readable job folders, finished runs skipped, unfinished resumed.

`XgenSweeper` is Hydra's basic sweeper (a cartesian product of the sweep file's
`hydra.sweeper.params` and the command line's overrides; the command line wins per key, so
`seed=0` narrows a sweep and `seed=0,1,2,3` widens it) plus three things:
- each job's folder is `<sweep dir>/<the overrides that vary>/seed=<s>`: only the keys that take
  several values in the sweep file or on the command line name the folder (`sweep_subdir`), so a
  folder name stays short, and launching a sweep again (narrowed or not) lands every job in its
  folder of the first launch;
- before launching, each job's folder is looked at: a finished run (summary.json) is skipped, an
  unfinished one resumes (the job's own `xgen train` continues from its last checkpoint), and a
  run there with another config is a one-line error naming the keys; it prints how many of each;
- a sweep file may name the command it is for (`command: eval`), checked before anything runs,
  and a launcher that cannot size a job from the trainer config says so in one line.
Hydra loads sweepers from the `hydra_plugins` package only: hydra_plugins/xgen_sweeper.py makes it there.
"""

from __future__ import annotations

import os
from pathlib import Path

from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf, open_dict, read_write

# The leaf folder of every job; never part of the folder above it.
LEAF_KEY = "seed"


def sweep_subdir(varying: str, seed=None, alone: str = "run") -> str:
    """`<varying>/seed=<s>`, or `seed=<s>` when only the seed varies; without a seed (`xgen eval`:
    a baseline trains nothing) `<varying>`, or `alone` when nothing varies. `varying` is Hydra's
    `hydra.job.override_dirname` (the job's overrides of the varying keys, `k=v` joined by commas);
    a `/` inside a value would nest folders, so it becomes `_`."""
    parts = [str(varying).replace(os.sep, "_")] + ([f"{LEAF_KEY}={seed}"] if seed is not None else [])
    return "/".join(p for p in parts if p) or alone


class SweepFolders:
    """Mixed into Hydra's BasicSweeper by hydra_plugins/xgen_sweeper.py. Not a subclass here: Hydra's
    plugin scan executes basic_sweeper.py a second time, and a class made from the first
    execution's BasicSweeper fails its `super(BasicSweeper, self)`."""

    def __init__(self, max_batch_size: int | None = None, params: dict | None = None, command: str | None = None):
        super().__init__(max_batch_size=max_batch_size, params=params)
        self.command = command

    def setup(self, *, hydra_context, task_function, config) -> None:
        """Hydra's, which builds the launcher: an XgenError from a launcher's resolver (e.g.
        trainer.devices=-1 under hydra/launcher=slurm) is reported in one line, not as a traceback."""
        from xgen_cli.errors import XgenError, report

        try:
            super().setup(hydra_context=hydra_context, task_function=task_function, config=config)
        except Exception as exc:
            cause = exc
            while cause is not None and not isinstance(cause, XgenError):
                cause = cause.__cause__ or cause.__context__
            if cause is None:
                raise
            report(config.hydra.job.name, cause)

    def sweep(self, arguments: list[str]):
        from xgen_cli.errors import XgenError, report

        name = self.config.hydra.job.name
        try:
            if self.command and self.command != name:
                raise XgenError(f"this sweep is for xgen {self.command}: run xgen {self.command} -m "
                                + " ".join(a for a in arguments if a.startswith(("sweep=", "+sweep="))))
            self._name_folders_by_what_varies(arguments)
            return super().sweep(arguments)
        except XgenError as exc:
            report(name, exc)

    def _name_folders_by_what_varies(self, arguments: list[str]) -> None:
        """Only the keys that take several values in the sweep file or on the command line name the
        folders (`hydra.job.override_dirname`, see `sweep_subdir`): a key the sweep file varies
        keeps naming them when the command line narrows it to one value (`method=prompt`), so a
        narrowed launch finds the full sweep's folders. The jobs compose from the sweep's hydra
        overrides, where the rest is excluded."""
        parser = OverridesParser.create(config_loader=self.hydra_context.config_loader)
        given = parser.parse_overrides(self._parse_config() + list(arguments))
        varying = {o.key_or_group for o in given if o.is_sweep_override()} - {LEAF_KEY}
        fixed = sorted({o.key_or_group for o in given} - varying)
        quoted = ",".join(f"'{key}'" for key in fixed)
        with read_write(self.config.hydra.overrides), open_dict(self.config.hydra.overrides):
            self.config.hydra.overrides.hydra.append(f"hydra.job.config.override_dirname.exclude_keys=[{quoted}]")

    def split_arguments(self, overrides, max_batch_size):
        """Hydra's jobs, less the finished runs; reports what this launch does with each folder."""
        from hydra.core.hydra_config import HydraConfig

        jobs = super().split_arguments(overrides, None)[0]
        todo, counts = [], {"new": 0, "resumed": 0, "skipped": 0}
        for job in jobs:
            outcome = self._outcome(job)
            counts[outcome] += 1
            if outcome != "skipped":
                todo.append(job)
        HydraConfig.instance().set_config(self.config)  # the sweep's own again, as Hydra left it
        sweep_dir = self.config.hydra.sweep.dir
        print(f"[sweep] {sweep_dir}: {len(jobs)} runs: {counts['skipped']} finished before (skipped), "
              f"{counts['resumed']} unfinished (resumed), {counts['new']} new", flush=True)
        size = max_batch_size or len(todo) or 1
        return [todo[i:i + size] for i in range(0, len(todo), size)]

    def validate_batch_is_legal(self, batch) -> None:
        pass  # every job was composed by `_outcome` already

    def _outcome(self, job: list[str]) -> str:
        """"new", "resumed" or "skipped" for one job's folder; XgenError for a run there with
        another config, or one that cannot continue there (RunDir.check_target)."""
        from hydra.core.hydra_config import HydraConfig

        from xgen_cli.errors import XgenError
        from xgen_cli.runs.config_diff import config_differences, first_few
        from xgen_cli.runs.run_dir import RunDir

        config = self.hydra_context.config_loader.load_sweep_config(self.config, list(job))
        HydraConfig.instance().set_config(config)  # for ${hydra:...} in the folder's name
        folder = Path(str(config.hydra.sweep.dir)) / str(config.hydra.sweep.subdir)
        saved_file = folder / ".hydra" / "config.yaml"
        if not (folder / "run.json").exists() and not (folder / "summary.json").exists():
            return "new"
        new = OmegaConf.to_container(config)
        new.pop("hydra")
        differences = config_differences(OmegaConf.to_container(OmegaConf.load(saved_file)), new) \
            if saved_file.is_file() else ["(no .hydra/config.yaml there)"]
        if differences:
            raise XgenError(f"{folder} holds a run of this sweep with another config ({first_few(differences)}): "
                            "launch the sweep with the same overrides, or into another hydra.sweep.dir")
        run = RunDir(folder)
        if run.status() == "done":
            return "skipped"
        run.check_target()  # a live run there: refused
        return "resumed"
