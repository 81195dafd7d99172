"""xgen's sweeper: Hydra's basic sweeper with xgen's job folders (xgen_cli/sweeps.py). Hydra
instantiates a sweeper only from a class defined in the `hydra_plugins` namespace package."""

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

from xgen_cli.sweeps import SweepFolders


class XgenSweeper(SweepFolders, BasicSweeper):
    pass
