"""Gathering a per-process batch from every process, with gradients.

Contrastive losses need the negatives of the global batch. The gather must
let gradients flow back to the process that owns each row, otherwise a
process only learns from its own rows as anchors and the result depends on
the number of processes.
"""
from __future__ import annotations

from typing import List, Tuple

import torch
import torch.distributed as dist
from torch import Tensor


def dist_world() -> Tuple[int, int]:
    """(rank, world size) of the default process group; (0, 1) without one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def gather_rows_with_grad(x: Tensor) -> Tuple[Tensor, int]:
    """Concatenates ``x`` (B_r, *S) of every process along dim 0, keeping the graph.

    Processes may hold different B_r (an uneven last batch): rows are padded
    to the largest B_r for the collective and the padding is cut off again.
    The backward pass is ``torch.distributed.nn.functional.all_gather``'s
    (gloo: scatter-based all-to-all, then a sum), so the gradient each process
    receives for its rows is the SUM over all processes' losses of their
    gradients with respect to those rows. With each process's loss normalised
    as in :class:`~mmav_mask.models.losses.InfoNCELoss` and DDP averaging the
    parameter gradients, the parameter gradients equal those of one process
    holding the whole batch.

    Without an initialised process group (or with one process) this is the
    identity.

    Args:
        x: this process's rows, (B_r, *S).

    Returns:
        (global (sum_r B_r, *S) tensor, offset of this process's first row).
    """
    rank, world = dist_world()
    if world == 1:
        return x, 0
    from torch.distributed.nn.functional import all_gather

    size = torch.tensor([x.shape[0]], dtype=torch.long, device=x.device)
    sizes: List[Tensor] = [torch.zeros_like(size) for _ in range(world)]
    dist.all_gather(sizes, size)
    counts = [int(s) for s in sizes]
    longest = max(counts)
    padded = x
    if x.shape[0] < longest:
        padded = torch.cat([x, x.new_zeros((longest - x.shape[0], ) + tuple(x.shape[1:]))])
    parts = all_gather(padded.contiguous())
    rows = torch.cat([p[:n] for p, n in zip(parts, counts)])
    return rows, sum(counts[:rank])


__all__ = ['dist_world', 'gather_rows_with_grad']
