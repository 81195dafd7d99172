"""The training mixture: which example each draw of a run trains on.

A run of S optimizer steps at batch B (x gradient accumulation A) draws S*B*A examples. Each draw
comes from one source, chosen with the sources' weights:
- `Labelled`: supervised pairs (English summarization), in a seeded shuffled order, epoch after epoch;
- `Generated`: an unsupervised task applied to a random document of unlabeled text (span
  corruption for MIX-UNSUP, the seven tasks of factorized-prompt training, LM for IT-LM).
MIX-UNSUP at rate kappa (paper.md, Remedies) is `Labelled` with weight 1 - kappa beside one
`Generated` span-corruption source per target language, sharing kappa equally.

Every draw is decided up front and addressed by its index (draw i uses its own RNG, seeded by
(seed, i)), so a run is reproducible by seed, the number of examples each source contributes is
known before training starts, and a resumed run can start at draw k without replaying the first k.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

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

    def draw(self, k: int, seed: int, rng: random.Random) -> Pair:
        """The k-th draw from this source (k counts this source's draws only)."""
        epoch, j = divmod(k, len(self.pairs))
        order = np.random.default_rng([seed, epoch]).permutation(len(self.pairs))
        return self.pairs[int(order[j])]


@dataclass
class Generated:
    """An unsupervised task (ids, rng) -> Pair applied to a document drawn uniformly."""

    name: str
    weight: float
    docs: Sequence[list[int]]
    task: Callable[[list[int], random.Random], Pair]
    lang: str | None = None

    def draw(self, k: int, seed: int, rng: random.Random) -> Pair:
        return self.task(self.docs[rng.randrange(len(self.docs))], rng)


Source = Labelled | Generated


class Mixture(Dataset):
    """`total` draws from `sources`; item i is draw i, tagged with its source's task and lang."""

    def __init__(self, sources: Sequence[Source], total: int, seed: int):
        sources = [s for s in sources if s.weight > 0]
        empty = [s.name for s in sources if not (s.pairs if isinstance(s, Labelled) else s.docs)]
        if empty:
            raise ValueError(f"mixture sources without data: {', '.join(empty)}")
        self.sources, self.total, self.seed = sources, total, seed
        weights = np.array([s.weight for s in sources], dtype=np.float64)
        self.choice = np.random.default_rng(seed).choice(len(sources), size=total, p=weights / weights.sum())
        # within[i]: how many earlier draws came from the same source, so Labelled walks its order.
        self.within = np.zeros(total, dtype=np.int64)
        for index in range(len(sources)):
            where = np.flatnonzero(self.choice == index)
            self.within[where] = np.arange(len(where))

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, i: int) -> TaggedPair:
        source = self.sources[self.choice[i]]
        # A string seed is hashed with SHA-512 by `random`, so it is stable across processes.
        pair = source.draw(int(self.within[i]), self.seed, random.Random(f"{self.seed}:{i}"))
        return TaggedPair(*pair, task=source.name, lang=source.lang)

    def counts(self) -> dict[str, int]:
        """Draws per source, labelled `name` or `name/lang`: what the run will train on."""
        tally = Counter(self.choice.tolist())
        return {_label(s): tally.get(i, 0) for i, s in enumerate(self.sources)}


def _label(source: Source) -> str:
    return f"{source.name}/{source.lang}" if source.lang else source.name
