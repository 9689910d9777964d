"""InfoNCE on cosine similarity over the global batch (MAViL Sec. 3.2, Eq. 2)."""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from mmaction.registry import MODELS

from .dist_gather import dist_world, gather_rows_with_grad


@MODELS.register_module()
class InfoNCELoss(nn.Module):
    """Contrastive InfoNCE loss between paired embeddings ``a`` and ``b``.

    For anchor ``a_i`` the positive is ``b_i`` and the negatives are all other
    ``b_j`` of the global batch (every process's rows when gathering)::

        l_i(a -> b) = -log( exp(S(a_i, b_i) / tau) / sum_j exp(S(a_i, b_j) / tau) ),
        S(x, y) = x.y / (|x| |y|)   (cosine similarity).

    MAViL (Huang et al., Sec. 3.2, Eq. 2) defines the loss in ONE direction,
    L_c(x, y) with x as anchors, and uses L_c(a_emb, v_emb) inter-modal
    (tau 0.1, weight 0.1) and 1/2 [L_c(a, a~) + L_c(v, v~)] intra-modal
    (tau 1.0, weight 0.01; Sec. 4 "Implementation" and the appendix). Set
    ``symmetric=False`` for exactly Eq. 2. ``symmetric=True`` (the default,
    as in CLIP / CAV-MAE) averages the a -> b and b -> a terms; it is our
    choice, not the paper's.

    Distributed: with an initialised process group of more than one process
    and ``gather=True``, ``a``, ``b`` and ``valid`` of every process are
    gathered with gradients flowing back through the gather
    (:func:`~mmav_mask.models.losses.dist_gather.gather_rows_with_grad`).
    This process's valid rows are the anchors, located in the global batch
    at the offset of this process. The loss of a process is the sum of its
    anchors' terms divided by ``N_valid / world_size`` (N_valid: valid samples
    of the global batch), so the mean over processes — what DDP's gradient
    averaging optimises — is exactly the mean over the global batch, even
    when processes hold different numbers of valid samples. Hence
    ``world_size`` processes x b samples give the same parameter gradients
    as one process x ``world_size * b``. (The gradient on a process's input
    rows is ``world_size`` times the single-process one, because the gather's
    backward sums every process's contribution; DDP's averaging of the
    parameter gradients divides that back out.)

    Args:
        temperature: softmax temperature tau > 0.
        loss_weight: factor on the returned loss (alpha / beta of Eq. 4).
        gather: use the negatives of all processes under DDP.
        symmetric: average a -> b and b -> a (see above); False = Eq. 2.
    """

    def __init__(self, temperature: float = 0.1, loss_weight: float = 1.0,
                 gather: bool = True, symmetric: bool = True) -> None:
        super().__init__()
        if not temperature > 0:
            raise ValueError(f'temperature must be > 0, got {temperature}')
        self.temperature = float(temperature)
        self.loss_weight = float(loss_weight)
        self.gather = gather
        self.symmetric = symmetric

    def forward(self, a: Tensor, b: Tensor, valid: Optional[Tensor] = None) -> Tensor:
        """Weighted InfoNCE loss.

        Args:
            a: (B, D) anchors' embeddings (e.g. mean-pooled audio tokens).
            b: (B, D) their positives' embeddings (e.g. mean-pooled video).
            valid: (B,) bool or None; False drops the sample both as an
                anchor and as a negative (e.g. a clip without audio).

        Returns:
            Scalar tensor, ``loss_weight * loss`` (float32). Zero, still
            attached to the inputs, when no sample of the global batch is valid.
        """
        if a.dim() != 2 or a.shape != b.shape:
            raise ValueError(f'InfoNCELoss expects a and b of the same shape (B, D), got '
                             f'{tuple(a.shape)} and {tuple(b.shape)}')
        if valid is None:
            valid = torch.ones(a.shape[0], dtype=torch.bool, device=a.device)
        elif valid.dtype != torch.bool or valid.shape != a.shape[:1]:
            raise ValueError(f'InfoNCELoss: valid must be a bool tensor of shape ({a.shape[0]},), '
                             f'got {valid.dtype} {tuple(valid.shape)}')
        # float32 similarities: under AMP half-precision logits / tau lose the ranking
        a_n = F.normalize(a.float(), dim=-1)
        b_n = F.normalize(b.float(), dim=-1)
        world = dist_world()[1] if self.gather else 1
        if world > 1:
            packed = torch.cat([a_n, b_n, valid.float()[:, None]], dim=1)
            rows, offset = gather_rows_with_grad(packed)
            d = a_n.shape[1]
            a_all, b_all, valid_all = rows[:, :d], rows[:, d:2 * d], rows[:, -1] > 0.5
        else:
            a_all, b_all, valid_all, offset = a_n, b_n, valid, 0

        num_valid = int(valid_all.sum())
        if num_valid == 0:  # keep the graph (and DDP's collectives) intact
            return (a_all.sum() + b_all.sum()) * 0.0
        anchors = valid.nonzero().squeeze(1)
        # position of each global sample among the valid ones = its target column
        column = torch.cumsum(valid_all.long(), 0) - 1
        target = column[anchors + offset]
        loss = self._direction(a_n[anchors], b_all[valid_all], target)
        if self.symmetric:
            loss = 0.5 * (loss + self._direction(b_n[anchors], a_all[valid_all], target))
        return self.loss_weight * loss * (world / num_valid)

    def _direction(self, anchors: Tensor, candidates: Tensor, target: Tensor) -> Tensor:
        """Sum over anchors (K, D) of the cross-entropy against candidates (M, D)."""
        logits = anchors @ candidates.t() / self.temperature
        return F.cross_entropy(logits, target, reduction='sum')

    def extra_repr(self) -> str:
        return (f'temperature={self.temperature}, loss_weight={self.loss_weight}, '
                f'gather={self.gather}, symmetric={self.symmetric}')
