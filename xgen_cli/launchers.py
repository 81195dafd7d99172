"""What a run asks of a cluster launcher (conf/hydra/launcher/slurm.yaml), derived from the trainer
config so the two never disagree: one SLURM task per device, so Lightning uses SLURM's processes."""

from __future__ import annotations

from xgen_cli.errors import XgenError


def tasks_per_node(devices) -> int:
    if isinstance(devices, int) and devices > 0:
        return devices
    raise XgenError(f"trainer.devices={devices} cannot size a SLURM job: give the number of devices per node "
                    "(e.g. trainer.devices=4); hydra/launcher=slurm starts one task per device")


def gpus_per_node(accelerator: str, devices) -> int | None:
    return tasks_per_node(devices) if accelerator in ("gpu", "cuda") else None
