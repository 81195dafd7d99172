"""What learned prompts have in common (paper.md, Figure 8): cosine similarities between prompts,
average-linkage hierarchical clustering on 1 - cosine, and the clustered heatmap.

Shared by `xgen analyze prompts` (per-language prompts, with the matrix as CSV) and `xgen plot
figure=fig8` (any runs' prompts). Checkpoints are torch files: torch is imported where one is read.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure

from xgen_cli.errors import XgenError

PROMPT_KEY = "prompt.parts.task"  # a prompt-tuning checkpoint's learned prompt (L x d)
WIDTH = 3.3  # inches: one column of a two-column paper


def read_prompt(checkpoint: Path) -> np.ndarray | None:
    """The learned prompt of a checkpoint, flattened; None when it holds none (model tuning)."""
    import torch

    # xgen's checkpoints hold tensors and plain values only (RNG state included), so the safe loader reads them.
    state = torch.load(checkpoint, map_location="cpu", weights_only=True).get("state_dict", {})
    return state[PROMPT_KEY].float().flatten().numpy() if PROMPT_KEY in state else None


def cosine_similarities(vectors: list[np.ndarray]) -> np.ndarray:
    """The n x n cosine similarities of n prompts of one shape."""
    if len({v.size for v in vectors}) > 1:
        raise XgenError("prompts of different lengths or widths cannot be compared: give runs of one prompt_length "
                        "and one backbone")
    matrix = np.stack(vectors).astype(np.float64)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.clip(matrix @ matrix.T, -1.0, 1.0)


def cluster(similarity: np.ndarray) -> np.ndarray:
    """scipy's linkage matrix: average linkage on the distances 1 - cosine."""
    from scipy.cluster.hierarchy import linkage
    from scipy.spatial.distance import squareform

    return linkage(squareform(1.0 - similarity, checks=False), method="average")


def heatmap(similarity: np.ndarray, labels: list[str]) -> tuple[Figure, list[int]]:
    """The dendrogram over the heatmap, rows and columns in the clustering's leaf order; returns the
    figure and that order."""
    from scipy.cluster.hierarchy import dendrogram

    fig = Figure(figsize=(WIDTH, WIDTH + 0.5), layout="constrained")
    top, ax = fig.subplots(2, 1, height_ratios=[1, 4])
    order = dendrogram(cluster(similarity), ax=top, no_labels=True, color_threshold=0,
                       above_threshold_color="black")["leaves"]
    top.set_axis_off()
    image = ax.imshow(similarity[np.ix_(order, order)], cmap="viridis", vmin=min(0.0, similarity.min()), vmax=1.0)
    ax.set_xticks(range(len(order)), [labels[k] for k in order], rotation=90)
    ax.set_yticks(range(len(order)), [labels[k] for k in order])
    fig.colorbar(image, ax=ax, shrink=0.8, label="cosine similarity")
    return fig, order
