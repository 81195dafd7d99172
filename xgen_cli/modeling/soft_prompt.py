"""Soft prompts: named parts of learned vectors prepended to the encoder's input embeddings.

Prompt tuning (paper.md, Methods) uses one part, "task". Factorized prompts (paper.md, Remedies)
compose a language part and a task part looked up by name ("lang:ru", "task:span_corruption"),
and each row of a batch may ask for its own pair of parts.
"""

from __future__ import annotations

import torch
from torch import nn


def sampled_vocab_init(embedding: torch.Tensor, length: int, generator: torch.Generator, first_rows: int = 5000) -> torch.Tensor:
    """Rows sampled without replacement from the first 5,000 rows of the vocabulary (paper.md)."""
    pool = min(first_rows, embedding.shape[0])
    if length > pool:
        raise ValueError(f"cannot sample {length} distinct rows from the first {pool} of the vocabulary")
    rows = torch.randperm(pool, generator=generator)[:length]
    return embedding[rows].detach().clone()


def uniform_init(length: int, dim: int, scale: float, generator: torch.Generator) -> torch.Tensor:
    """U(-scale, scale); the factorized-prompt reference code uses scale 0.5 (paper.md)."""
    return (torch.rand(length, dim, generator=generator) * 2 - 1) * scale


def text_init(embedding: torch.Tensor, token_ids: list[int], length: int) -> torch.Tensor:
    """The embeddings of a text's tokens, repeated to fill `length` rows."""
    if not token_ids:
        raise ValueError("prompt init text tokenizes to nothing")
    ids = (token_ids * (length // len(token_ids) + 1))[:length]
    return embedding[torch.tensor(ids)].detach().clone()


class SoftPrompt(nn.Module):
    def __init__(self, parts: dict[str, torch.Tensor]):
        super().__init__()
        self.parts = nn.ParameterDict({name: nn.Parameter(value) for name, value in parts.items()})

    def vectors(self, names: tuple[str, ...]) -> torch.Tensor:
        return torch.cat([self.parts[name] for name in names], dim=0)

    def prepend(self, inputs_embeds: torch.Tensor, attention_mask: torch.Tensor,
                names: tuple[str, ...] | list[tuple[str, ...]] = ("task",)) -> tuple[torch.Tensor, torch.Tensor]:
        """[prompt ; inputs] along the sequence, with the attention mask extended by ones.

        `names`: the parts for every row, or a list with the parts of each row (all the same length).
        """
        batch = inputs_embeds.shape[0]
        if isinstance(names, tuple) or len(set(names)) == 1:
            prompt = self.vectors(names if isinstance(names, tuple) else names[0]).to(inputs_embeds.dtype)
            prompt = prompt.unsqueeze(0).expand(batch, -1, -1)
        else:
            prompt = torch.stack([self.vectors(row) for row in names]).to(inputs_embeds.dtype)
        embeds = torch.cat([prompt, inputs_embeds], dim=1)
        ones = attention_mask.new_ones(batch, prompt.shape[1])
        return embeds, torch.cat([ones, attention_mask], dim=1)
