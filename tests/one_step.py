"""A tiny MT5 without dropout and a fixed batch: for the tests that take one step two ways (a wrapped
and a plain backbone, a bf16 and an fp32 one) and compare the results."""

from __future__ import annotations

import torch

TINY = dict(vocab_size=300, d_model=32, d_ff=64, d_kv=8, num_heads=4, num_layers=2, num_decoder_layers=2,
            dropout_rate=0.0)


def fixed_batch(rows: int) -> dict:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(3, TINY["vocab_size"], (rows, 9), generator=g)
    labels = torch.randint(3, TINY["vocab_size"], (rows, 5), generator=g)
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": labels}
