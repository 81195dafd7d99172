"""`python -m bench.peak <file> <module> [args]`: run a module as __main__, then write the process's
peak resident memory (VmHWM, in kB) to <file>.

Not ru_maxrss: Linux carries a parent's peak into its child across fork and exec, so a child of a
large benchmark process would report the parent's size. VmHWM belongs to the memory map exec made.
"""

import atexit
import runpy
import sys
from pathlib import Path


def _write_peak(path: str) -> None:
    status = Path("/proc/self/status").read_text()
    Path(path).write_text(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


if __name__ == "__main__":
    out, module = sys.argv[1], sys.argv[2]
    atexit.register(_write_peak, out)
    sys.argv = [module, *sys.argv[3:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)
