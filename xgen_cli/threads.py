"""Each run's share of the CPU: how many torch threads it starts (`trainer.threads`).

torch starts one intra-op thread per core and as many inter-op threads. Alone that is fastest;
with several runs on one machine (a local sweep, a test run beside a demo) the threads of all of
them spin against each other: four runs on 2 cores took 10-100x longer than one alone (issue 9;
bench/threads.py measures it). The budget is, in order: `trainer.threads` when set, else
SLURM_CPUS_PER_TASK (the CPUs SLURM gave the task), else the cores split between the processes of
a run on the CPU (`trainer=ddp_cpu`: devices processes), else torch's default (every core).
"""

from __future__ import annotations

import os
import sys

from xgen_cli.errors import XgenError

SLURM_VARIABLE = "SLURM_CPUS_PER_TASK"


def threads_problem(setting) -> str | None:
    """Why `trainer.threads` is not a valid budget, or None (config_checks reports it up front)."""
    if setting is None or (isinstance(setting, int) and not isinstance(setting, bool) and setting >= 1):
        return None
    return (f"trainer.threads={setting} must be a whole number >= 1 (torch threads for this run), "
            "or null for SLURM_CPUS_PER_TASK where set, else every core")


def processes_sharing_cores(trainer) -> int:
    """How many processes of this run share the machine's cores: trainer=ddp_cpu's devices (a GPU
    run's processes each drive a device, and its CPU threads are not what bounds it)."""
    if not trainer or trainer.get("accelerator") != "cpu":
        return 1
    devices = trainer.get("devices")
    return devices if isinstance(devices, int) and not isinstance(devices, bool) and devices > 1 else 1


def thread_budget(setting: int | None, processes: int = 1) -> tuple[int | None, str]:
    """(threads, where the number comes from); (None, "") leaves torch's default."""
    problem = threads_problem(setting)
    if problem:
        raise XgenError(problem)
    if setting is not None:
        return setting, f"trainer.threads={setting}"
    slurm = os.environ.get(SLURM_VARIABLE, "").strip()
    if slurm.isdigit() and int(slurm) > 0:
        return int(slurm), f"{SLURM_VARIABLE}={slurm}"
    if processes > 1:
        cores = os.cpu_count() or 1
        return max(1, cores // processes), f"{cores} cores for {processes} processes"
    return None, ""


def apply_thread_budget(setting: int | None, processes: int = 1) -> int | None:
    """Set torch's intra- and inter-op threads to the budget, before any torch work starts."""
    threads, source = thread_budget(setting, processes)
    if threads is None:
        return None
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(threads)
    except RuntimeError:  # inter-op work already ran in this process (a second call): keep its pool
        pass
    print(f"[xgen] {threads} torch thread{'s' if threads > 1 else ''} ({source})", file=sys.stderr, flush=True)
    return threads
