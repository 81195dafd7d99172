"""Giving freed memory back to the system between training steps and evaluated languages.

On the CPU, torch allocates tensors with the C library's malloc. glibc keeps freed blocks for
reuse, and once a large block has been freed it raises its threshold for mapping blocks of their
own, so later tensors of that size come from the heap, which batches of ever-changing shapes
fragment and which is seldom returned. `malloc_trim(0)` hands the heap's free pages back (a
41,943-pair run with max_tokens_per_pass=2048: 1.52 GB at its peak without, 1.40 GB with), but
the next step faults them in again, so it runs only once resident memory has grown by SLACK_MB
since the last time. Where the C library is not glibc (macOS, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
from functools import cache

import lightning as L

SLACK_MB = 64  # growth of resident memory since the last trim that makes the next one worth its cost


@cache
def _malloc_trim():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc.malloc_trim
    except (OSError, AttributeError):
        return None


def return_freed_memory() -> None:
    """Hand the C heap's free pages back to the system (glibc; elsewhere nothing)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def resident_mb() -> float:
    """This process's resident memory, from /proc (0 where there is none)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return 0.0


class ReturnFreedMemory(L.Callback):
    """After a training batch on the CPU that left resident memory SLACK_MB above what the last trim
    left (a GPU's memory is torch's own caching allocator's)."""

    def __init__(self):
        self.floor = 0.0

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if pl_module.device.type == "cpu" and resident_mb() > self.floor + SLACK_MB:
            return_freed_memory()
            self.floor = resident_mb()
