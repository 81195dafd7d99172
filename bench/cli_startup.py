"""6. CLI start-up: `xgen --help` under 1 s, `xgen train --cfg job` under 2 s (a sweep composes
thousands of configs). The baseline figure is the target itself: nothing else starts xgen."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bench.common import REPO, entry, interleaved, median, xgen_env

COMMANDS = {"xgen --help": ((["--help"]), 1.0), "xgen train --cfg job": (["train", "--cfg", "job"], 2.0)}
ROUNDS, QUICK_ROUNDS = 5, 1


def _timed(args: list[str]):
    def run() -> None:
        subprocess.run([sys.executable, "-m", "xgen_cli.cli", *args], check=True, capture_output=True, cwd=REPO,
                       env={**os.environ, **xgen_env()})

    return run


def run(quick: bool, out: Path) -> list[dict]:
    seconds = interleaved({name: _timed(args) for name, (args, _) in COMMANDS.items()}, QUICK_ROUNDS if quick else ROUNDS)
    rows = []
    for name, (_, target) in COMMANDS.items():
        x = median(seconds[name])
        print(f"  {name}: {x:.2f}s (target {target:.0f}s)", file=sys.stderr, flush=True)
        rows.append(entry(f"start-up: {name}", x, target, "s", ratio=target / x, target=f"< {target:.0f} s", met=x < target,
                          baseline_name="the target", inputs={"rounds": len(seconds[name])},
                          notes="wall time of a fresh process; ratio = target / xgen"))
    return rows
