"""Index helpers for tube masks: visible / masked token indices without loops."""
from __future__ import annotations

from typing import Tuple

import torch
from torch import Tensor


def flatten_mask(mask: Tensor) -> Tensor:
    """(B, T', H', W') or (B, N) bool mask -> (B, N) bool, raster (t, h, w) order."""
    if mask.dtype != torch.bool:
        mask = mask.bool()
    return mask.flatten(1)


def split_visible_masked(mask: Tensor) -> Tuple[Tensor, Tensor]:
    """Token indices of the visible and of the masked tokens of each sample.

    Both index sets are in ascending raster order, which is the order that
    boolean indexing ``x[~mask]`` / ``x[mask]`` yields (VideoMAE's order), so
    results match the official model token for token.

    Args:
        mask: (B, T', H', W') or (B, N) bool, True = masked.

    Returns:
        ``(visible_idx (B, N_vis), masked_idx (B, N_mask))`` long tensors.

    Raises:
        ValueError: samples have different numbers of masked tokens (the
            tube mask guarantees equal counts; a batch of ragged masks
            cannot be stacked without padding).
    """
    flat = flatten_mask(mask)
    num_masked = flat.sum(1)
    if flat.shape[0] and bool((num_masked != num_masked[0]).any()):
        raise ValueError(
            'All samples of a batch must mask the same number of tokens (a tube '
            f'mask does); got per-sample masked counts {num_masked.tolist()}.')
    n_mask = int(num_masked[0]) if flat.shape[0] else 0
    # A stable sort of the 0/1 mask puts visible tokens first, each group in
    # ascending index order.
    order = torch.argsort(flat.to(torch.uint8), dim=1, stable=True)
    n_vis = flat.shape[1] - n_mask
    return order[:, :n_vis], order[:, n_vis:]


def gather_tokens(x: Tensor, idx: Tensor) -> Tensor:
    """Picks tokens: x (B or 1, N, C), idx (B, K) long -> (B, K, C)."""
    if x.shape[0] != idx.shape[0]:
        x = x.expand(idx.shape[0], -1, -1)
    return torch.gather(x, 1, idx.unsqueeze(-1).expand(-1, -1, x.shape[-1]))


__all__ = ['flatten_mask', 'split_visible_masked', 'gather_tokens']
