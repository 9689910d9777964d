"""Latent target and MSE loss over masked tokens (MAViL stage 2's contextualised targets)."""
from __future__ import annotations

from typing import Optional

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor

from ..utils.masking import gather_tokens, split_visible_masked


@MODELS.register_module()
class FeatureReconstructionHead(BaseModule):
    """Target = a teacher's token features at the masked positions (MAViL, Eq. 5).

    The interface of ``PixelReconstructionHead`` where a model uses it
    (``get_target``, ``per_sample_mse``, ``loss_weight``), with features
    instead of pixels: the teacher encodes the full, unmasked input, so its
    output has one row per token, in the raster order of the mask.

    Args:
        loss_weight: multiplier of the loss.
        init_cfg: mmengine init config.
    """

    def __init__(self, loss_weight: float = 1.0, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.loss_weight = loss_weight

    @torch.no_grad()
    def get_target(self, features: Tensor, mask: Tensor) -> Tensor:
        """Rows of the masked tokens (float32).

        Args:
            features: (B, N, D) teacher features of all N tokens.
            mask: (B, *grid) bool with N positions per sample, True = masked.

        Returns:
            (B, N_masked, D), masked tokens in ascending raster order.

        Raises:
            ValueError: the features do not have one row per mask position.
        """
        if features.dim() != 3 or features.shape[1] != mask[0].numel():
            raise ValueError(f'feature target needs (B, {mask[0].numel()}, D) teacher features '
                             f'(one row per mask position), got {tuple(features.shape)}')
        return gather_tokens(features.float(), split_visible_masked(mask)[1])

    @staticmethod
    def per_sample_mse(pred: Tensor, target: Tensor) -> Tensor:
        """(B, N, D), (B, N, D) -> (B,) mean squared error of each sample."""
        return (pred.float() - target.float()).pow(2).flatten(1).mean(1)


__all__ = ['FeatureReconstructionHead']
