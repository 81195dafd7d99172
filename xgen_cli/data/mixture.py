"""The training mixture: which example each draw of a run trains on.

A run of S optimizer steps at batch B (x gradient accumulation A) draws S*B*A examples. Each draw
comes from one source, chosen with the sources' weights:
- `Labelled`: supervised pairs (English summarization), in a seeded shuffled order, epoch after epoch;
- `Generated`: an unsupervised task applied to a random document of unlabeled text (span
  corruption for MIX-UNSUP, the seven tasks of factorized-prompt training, LM for IT-LM).
MIX-UNSUP at rate kappa (paper.md, Remedies) is `Labelled` with weight 1 - kappa beside one
`Generated` span-corruption source per target language, sharing kappa equally.

Every draw is addressed by its index alone: which source draw i comes from is read from a block
of choices seeded by (seed, i // BLOCK), a supervised draw i takes position i % n of the pairs'
permutation for pass i // n (so a pass skips the pairs whose draws went to other sources: about
kappa of them), and an unsupervised draw uses its own RNG seeded by (seed, i). So a run is
reproducible by seed, nothing grows with the run's length (a 100K-step run costs what a 100-step
one does until it trains), and a resumed run starts at draw k without replaying the first k.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from torch.utils.data import Dataset

from xgen_cli.data.tasks import Pair, TaggedPair


@dataclass
class Labelled:
    """Supervised pairs, in a seeded shuffled order that is drawn anew each epoch."""

    name: str
    weight: float
    pairs: Sequence[Pair]
    lang: str | None = None

    def draw(self, i: int, seed: int, rng: random.Random) -> Pair:
        """Draw i: position i % n of pass i // n's seeded permutation."""
        epoch, j = divmod(i, len(self.pairs))
        return self.pairs[int(_permutation(len(self.pairs), seed, epoch)[j])]


@dataclass
class Generated:
    """An unsupervised task (ids, rng) -> Pair applied to a document drawn uniformly."""

    name: str
    weight: float
    docs: Sequence[list[int]]
    task: Callable[[list[int], random.Random], Pair]
    lang: str | None = None

    def draw(self, i: int, seed: int, rng: random.Random) -> Pair:
        return self.task(self.docs[rng.randrange(len(self.docs))], rng)


Source = Labelled | Generated


BLOCK = 4096  # draws whose sources are chosen together (one numpy call instead of 4096)


@lru_cache(maxsize=4)
def _permutation(n: int, seed: int, epoch: int) -> np.ndarray:
    return np.random.default_rng([seed, epoch]).permutation(n)


class Mixture(Dataset):
    """`total` draws from `sources`; item i is draw i, tagged with its source's task and lang."""

    def __init__(self, sources: Sequence[Source], total: int, seed: int):
        sources = [s for s in sources if s.weight > 0]
        empty = [s.name for s in sources if not (s.pairs if isinstance(s, Labelled) else s.docs)]
        if empty:
            raise ValueError(f"mixture sources without data: {', '.join(empty)}")
        self.sources, self.total, self.seed = sources, total, seed
        weights = np.array([s.weight for s in sources], dtype=np.float64)
        self.p = weights / weights.sum()
        self._block = lru_cache(maxsize=2)(self._choices)

    def _choices(self, block: int) -> np.ndarray:
        """The source of each draw of block `block`."""
        return np.random.default_rng([self.seed, block]).choice(len(self.sources), size=BLOCK, p=self.p)

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, i: int) -> TaggedPair:
        source = self.sources[self._block(i // BLOCK)[i % BLOCK]]
        # A string seed is hashed with SHA-512 by `random`, so it is stable across processes.
        pair = source.draw(i, self.seed, random.Random(f"{self.seed}:{i}"))
        return TaggedPair(*pair, task=source.name, lang=source.lang)

    def counts(self) -> dict[str, int]:
        """Draws per source over the whole run, labelled `name` or `name/lang` (a numpy call per
        BLOCK draws: a second or so for the paper's 3.2M)."""
        tally = np.zeros(len(self.sources), dtype=np.int64)
        for block in range(0, (self.total + BLOCK - 1) // BLOCK):
            size = min(BLOCK, self.total - block * BLOCK)
            tally += np.bincount(self._choices(block)[:size], minlength=len(self.sources))
        return {_label(s): int(tally[k]) for k, s in enumerate(self.sources)}


def _label(source: Source) -> str:
    return f"{source.name}/{source.lang}" if source.lang else source.name
