"""A DataLoader that a resumed run continues at the same batch an uninterrupted run would draw next.

Lightning restores the fit loop's batch counters from a checkpoint, but a plain DataLoader starts
its epoch over: the shuffled order is redrawn from a freshly seeded generator (epoch 0's order, in
any epoch) and the batches already trained on come again. Lightning saves and restores a loader
that has `state_dict`/`load_state_dict` (its fit loop keeps them in the checkpoint, and restores
them before it iterates), so this loader keeps two things: the shuffle generator's state when the
current epoch's iterator was made, and how many batches that iterator has yielded. Resuming puts
the generator back and skips as many batches; a finished epoch is saved as "the next epoch, from
its start". Skipped batches are fetched and dropped: cheap for tokenized pairs (collation only),
and the only way to replay a seeded stream (TaskStream) to its position.

Lightning's fetcher does not read ahead for loaders with a length, so "yielded" is "trained on" at
checkpoint time; a stream (no length) is read one batch ahead, which the count corrects for.
"""

from __future__ import annotations

import torch
from torch.utils.data import DataLoader, IterableDataset


class ResumableLoader(DataLoader):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.generator is None:
            # Without one, each new iterator draws its base seed from the global RNG: a resumed run
            # would draw it after restoring the RNG, shifting every later dropout mask.
            self.generator = torch.Generator().manual_seed(torch.initial_seed())
        self._epoch_start: torch.Tensor | None = None
        self._yielded = 0
        self._skip = 0

    def __iter__(self):
        self._epoch_start = self.generator.get_state()
        skip, self._skip = self._skip, 0
        self._yielded = 0
        return self._counted(super().__iter__(), skip)

    def _counted(self, batches, skip: int):
        for batch in batches:
            self._yielded += 1
            if skip:
                skip -= 1
                continue
            yield batch

    def state_dict(self) -> dict:
        if self._epoch_start is None:
            return {}
        stream = isinstance(self.dataset, IterableDataset)
        if not stream and self._yielded >= len(self):
            return {"generator": self.generator.get_state(), "batches": 0}
        # Lightning reads one batch ahead of a loader without a length, to know when it ends.
        return {"generator": self._epoch_start, "batches": max(self._yielded - stream, 0)}

    def load_state_dict(self, state: dict) -> None:
        if "generator" in state:
            self.generator.set_state(state["generator"])
            self._skip = int(state["batches"])
