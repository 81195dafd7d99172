"""Tokenized training pairs held compactly: two flat int32 arrays with offsets, not Python lists.

A token id in a Python list costs 36 bytes (an int object and a pointer); here it costs 4. A
corpus of 41K English pairs held 5-6 GB as lists during training (issue 9); bench/data_memory.py
measures peak RSS of `xgen train` against corpus size. An item reads back as the Pair `summarize`
returns (lists of ints), so every batch is the one the lists gave.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterable, Sequence
from itertools import chain

import numpy as np

from xgen_cli.data.example import Example
from xgen_cli.data.tasks import Pair, summarize_all

CHUNK = 256  # examples tokenized per call: the batch path, its transients (about 100 bytes a token) kept small


class _Column:
    """One side of the pairs (inputs or labels), appended chunk by chunk."""

    def __init__(self):
        self.ids: list[np.ndarray] = []
        self.lengths: list[np.ndarray] = []

    def add(self, lists: list[list[int]]) -> None:
        self.lengths.append(np.fromiter(map(len, lists), np.int64, len(lists)))
        self.ids.append(np.fromiter(chain.from_iterable(lists), np.int32, int(self.lengths[-1].sum())))

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """(flat ids, offsets): item i is ids[offsets[i]:offsets[i + 1]]."""
        lengths = np.concatenate(self.lengths) if self.lengths else np.zeros(0, np.int64)
        flat = np.concatenate(self.ids) if self.ids else np.zeros(0, np.int32)
        return flat, np.concatenate([np.zeros(1, np.int64), np.cumsum(lengths)])


class TokenPairs(Sequence[Pair]):
    """Pair i = (inputs[in_at[i]:in_at[i+1]], labels[out_at[i]:out_at[i+1]]), read back as lists."""

    def __init__(self, inputs: np.ndarray, in_at: np.ndarray, labels: np.ndarray, out_at: np.ndarray):
        self.inputs, self.in_at, self.labels, self.out_at = inputs, in_at, labels, out_at

    @classmethod
    def from_pairs(cls, pairs: Sequence[Pair]) -> TokenPairs:
        return _store(pairs[start:start + CHUNK] for start in range(0, len(pairs), CHUNK))

    def __len__(self) -> int:
        return len(self.in_at) - 1

    def __getitem__(self, i: int) -> Pair:
        if not -len(self) <= i < len(self):
            raise IndexError(f"pair {i} of {len(self)}")
        i %= len(self)
        return Pair(self.inputs[self.in_at[i]:self.in_at[i + 1]].tolist(),
                    self.labels[self.out_at[i]:self.out_at[i + 1]].tolist())

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in (self.inputs, self.in_at, self.labels, self.out_at))


def tokenize_pairs(examples: Sequence[Example], tokenizer, max_input_tokens: int = 1024,
                   max_target_tokens: int = 512) -> TokenPairs:
    """`summarize` over a whole split, a chunk at a time, stored compactly (never a split-sized list of lists)."""
    return _store(summarize_all(list(examples[start:start + CHUNK]), tokenizer, max_input_tokens, max_target_tokens)
                  for start in range(0, len(examples), CHUNK))


def _store(chunks: Iterable[Sequence[Pair]]) -> TokenPairs:
    inputs, labels = _Column(), _Column()
    for pairs in chunks:
        inputs.add([p.input_ids for p in pairs])
        labels.add([p.labels for p in pairs])
        del pairs
        _release_freed_memory()
    return TokenPairs(*inputs.arrays(), *labels.arrays())


def _release_freed_memory() -> None:
    """Give the heap freed by a chunk's lists back to the OS (glibc keeps it otherwise: RSS then grows
    by the chunks' transient lists, measured 0.5 GB over 10K pairs); a no-op without glibc."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _glibc():
    try:
        libc = ctypes.CDLL("libc.so.6")
        return libc if hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


_LIBC = _glibc()
