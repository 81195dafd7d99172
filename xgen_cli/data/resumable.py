"""A DataLoader that a resumed run continues at the draw an uninterrupted run would train on next.

Lightning restores the fit loop's batch counters from a checkpoint, but a plain DataLoader starts
its epoch over, and the batches already trained on would come again. Lightning saves and restores
a loader that has `state_dict`/`load_state_dict` (its fit loop keeps them in the checkpoint and
restores them before it iterates), so this loader keeps how many batches it has given. The
training Mixture is addressed by draw index (data/mixture.py), so resuming starts at the next
draw directly, without replaying the draws before it. Lightning's fetcher does not read ahead for
loaders with a length, so "given" is "trained on" when a checkpoint is written.
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, Dataset, Subset


class ResumableLoader(DataLoader):
    """Batches of `draws` in index order, resumable at any batch."""

    def __init__(self, draws: Dataset, batch_size: int, collate_fn):
        # A generator of its own: without one, each new iterator draws its base seed from the global
        # RNG, and a resumed run would draw it after restoring the RNG, shifting every later dropout mask.
        super().__init__(draws, batch_size=batch_size, shuffle=False, collate_fn=collate_fn, num_workers=0,
                         generator=torch.Generator().manual_seed(0))
        self._given = 0
        self._start = 0  # batches to skip on the next iteration: set by load_state_dict

    def __iter__(self):
        start, self._start = self._start, 0
        self._given = start
        rest = Subset(self.dataset, range(min(start * self.batch_size, len(self.dataset)), len(self.dataset)))
        for batch in DataLoader(rest, batch_size=self.batch_size, collate_fn=self.collate_fn, num_workers=0,
                                generator=self.generator):
            self._given += 1
            yield batch

    def state_dict(self) -> dict:
        return {"batches": self._given}

    def load_state_dict(self, state: dict) -> None:
        self._start = int(state.get("batches", 0))
