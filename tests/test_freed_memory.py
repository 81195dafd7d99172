"""xgen_cli/freed_memory.py: freed heap pages go back to the system, and only once memory has grown."""

from __future__ import annotations

import subprocess
import sys

import pytest

from xgen_cli import freed_memory

pytestmark = pytest.mark.skipif(freed_memory._malloc_trim() is None, reason="malloc_trim is glibc's; this C library has none")

# Blocks below glibc's mmap threshold come from the heap, which keeps them when they are freed; one
# block kept at the end of the heap stops glibc's own trimming at free(), as a live tensor would.
_CHILD = """
import torch
from xgen_cli.freed_memory import resident_mb, return_freed_memory
blocks = [torch.ones(16_000) for _ in range(20_000)]  # 64 KB each, 1.3 GB
keep = torch.ones(16_000)
del blocks
before = resident_mb()
return_freed_memory()
print(before, resident_mb())
"""


def test_freed_heap_blocks_are_handed_back():
    out = subprocess.run([sys.executable, "-c", _CHILD], check=True, capture_output=True, text=True).stdout
    before, after = map(float, out.split())
    assert before - after > 800  # MB: most of the freed 1.3 GB


def test_the_callback_trims_only_after_memory_grew_by_the_slack(monkeypatch):
    trims, resident = [], iter([100.0, 100.0, 130.0, 100.0 + freed_memory.SLACK_MB + 1, 90.0])
    monkeypatch.setattr(freed_memory, "return_freed_memory", lambda: trims.append(True))
    monkeypatch.setattr(freed_memory, "resident_mb", lambda: next(resident))

    class Module:
        device = type("Device", (), {"type": "cpu"})()

    callback = freed_memory.ReturnFreedMemory()
    for _ in range(3):  # 100 (> 0 + slack: trims, floor 100), 130 (within the slack), 165 (trims, floor 90)
        callback.on_train_batch_end(None, Module(), None, None, 0)
    assert len(trims) == 2 and callback.floor == 90.0
