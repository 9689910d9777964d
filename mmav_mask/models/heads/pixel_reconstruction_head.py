"""Pixel target, loss and pixel-space read-out for masked tubelet reconstruction."""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor

from ..utils.masking import gather_tokens, split_visible_masked

# ImageNet statistics on the 0-255 scale, as MMAction2 data preprocessors use.
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)


@MODELS.register_module()
class PixelReconstructionHead(BaseModule):
    """VideoMAE reconstruction target and MSE loss over masked tubelets.

    A tubelet's vector is laid out pixel-major, colour last: index
    ``((dt * p + dy) * p + dx) * C + c`` (VideoMAE's ``(p0 p1 p2) c``).
    With ``norm_pix`` every tubelet and colour channel is normalised over its
    ``tubelet * p * p`` pixels: ``(x - mean) / (sqrt(unbiased var) + eps)``
    (eps outside the root, unlike MAE).

    Args:
        patch_size: spatial patch size p.
        tubelet_size: frames per tubelet.
        in_channels: colour channels C.
        norm_pix: normalised target (True, VideoMAE) or raw [0, 1] pixels.
        mean, std: per-channel statistics the data preprocessor normalised
            with, on the 0-255 scale; used to recover [0, 1] pixels.
        eps: epsilon of the normalised target.
        loss_weight: multiplier of the loss.
        object_threshold: a tubelet counts as an object tubelet in
            :meth:`region_sums` when at least this fraction of its pixels is in
            the pipeline's ``object_mask``.
        init_cfg: mmengine init config.
    """

    def __init__(self, patch_size: int = 16, tubelet_size: int = 2, in_channels: int = 3,
                 norm_pix: bool = True, mean: Sequence[float] = IMAGENET_MEAN,
                 std: Sequence[float] = IMAGENET_STD, eps: float = 1e-6,
                 loss_weight: float = 1.0, object_threshold: float = 0.25,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if len(mean) != in_channels or len(std) != in_channels:
            raise ValueError(f'mean/std need {in_channels} values, got {mean} / {std}.')
        self.patch_size = patch_size
        self.tubelet_size = tubelet_size
        self.in_channels = in_channels
        self.norm_pix = norm_pix
        self.eps = eps
        self.loss_weight = loss_weight
        self.object_threshold = object_threshold
        shape = (1, in_channels, 1, 1, 1)
        self.register_buffer('mean', torch.tensor(mean, dtype=torch.float32).view(shape) / 255.,
                             persistent=False)
        self.register_buffer('std', torch.tensor(std, dtype=torch.float32).view(shape) / 255.,
                             persistent=False)

    # ----------------------------------------------------------------- layout
    def unnormalize(self, imgs: Tensor) -> Tensor:
        """(B, C, T, H, W) preprocessor output -> float32 pixels in [0, 1]."""
        return imgs.float() * self.std + self.mean

    def patchify(self, video: Tensor) -> Tensor:
        """(B, C, T, H, W) -> (B, N, tubelet*p*p, C), tokens in raster (t, h, w) order."""
        B, C, T, H, W = video.shape
        t, p = self.tubelet_size, self.patch_size
        x = video.reshape(B, C, T // t, t, H // p, p, W // p, p)
        x = x.permute(0, 2, 4, 6, 3, 5, 7, 1)  # B T' H' W' t p p C
        return x.reshape(B, (T // t) * (H // p) * (W // p), t * p * p, C)

    def unpatchify(self, patches: Tensor, grid: Tuple[int, int, int]) -> Tensor:
        """(B, N, tubelet*p*p*C) -> (B, C, T, H, W); inverse of :meth:`patchify`."""
        B = patches.shape[0]
        (Tg, Hg, Wg), t, p, C = grid, self.tubelet_size, self.patch_size, self.in_channels
        x = patches.reshape(B, Tg, Hg, Wg, t, p, p, C)
        x = x.permute(0, 7, 1, 4, 2, 5, 3, 6)  # B C T' t H' p W' p
        return x.reshape(B, C, Tg * t, Hg * p, Wg * p)

    def _patch_stats(self, patches: Tensor) -> Tuple[Tensor, Tensor]:
        """Mean and (sqrt(unbiased var) + eps) over each tubelet's pixels, per channel."""
        mean = patches.mean(dim=-2, keepdim=True)
        std = patches.var(dim=-2, unbiased=True, keepdim=True).sqrt() + self.eps
        return mean, std

    # ----------------------------------------------------------------- target
    @torch.no_grad()
    def get_target(self, imgs: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """Reconstruction target of the masked tubelets (float32).

        Args:
            imgs: (B, C, T, H, W) normalised clip.
            mask: (B, T', H', W') bool, True = masked; None returns all tokens.

        Returns:
            (B, N_masked, tubelet*p*p*C) target.
        """
        patches = self.patchify(self.unnormalize(imgs))
        if self.norm_pix:
            mean, std = self._patch_stats(patches)
            patches = (patches - mean) / std
        target = patches.flatten(2)
        if mask is None:
            return target
        return gather_tokens(target, split_visible_masked(mask)[1])

    def loss(self, pred: Tensor, imgs: Tensor, mask: Tensor) -> Dict[str, Tensor]:
        """MSE over every value of the masked tubelets.

        Args:
            pred: (B, N_masked, tubelet*p*p*C) decoder output.
            imgs: (B, C, T, H, W) normalised clip.
            mask: (B, T', H', W') bool.

        Returns:
            ``dict(loss_rec=scalar)``.
        """
        target = self.get_target(imgs, mask)
        # float32 loss even under autocast: the target's spread is small.
        return dict(loss_rec=F.mse_loss(pred.float(), target) * self.loss_weight)

    @staticmethod
    def per_sample_mse(pred: Tensor, target: Tensor) -> Tensor:
        """(B, N, P), (B, N, P) -> (B,) mean squared error of each sample."""
        return (pred.float() - target.float()).pow(2).flatten(1).mean(1)

    # ---------------------------------------------------------------- read-out
    @torch.no_grad()
    def to_pixels(self, pred: Tensor, imgs: Tensor, mask: Tensor) -> Tensor:
        """Maps predictions of the masked tubelets to [0, 1] pixels (unclamped).

        With ``norm_pix`` each predicted tubelet is de-normalised with the
        mean and std of the same ground-truth tubelet (as VideoMAE's
        visualisation does); raw-pixel predictions are returned as they are.

        Args:
            pred: (B, N_masked, tubelet*p*p*C).
            imgs: (B, C, T, H, W) normalised clip.
            mask: (B, T', H', W') bool.

        Returns:
            (B, N_masked, tubelet*p*p*C) float32 pixels.
        """
        pred = pred.float()
        if not self.norm_pix:
            return pred
        gt = gather_tokens(self.patchify(self.unnormalize(imgs)).flatten(2),
                           split_visible_masked(mask)[1])
        gt = gt.reshape(*gt.shape[:2], -1, self.in_channels)
        mean, std = self._patch_stats(gt)
        return (pred.reshape_as(gt) * std + mean).flatten(2)

    @torch.no_grad()
    def ground_truth_pixels(self, imgs: Tensor, mask: Tensor) -> Tensor:
        """(B, N_masked, tubelet*p*p*C) [0, 1] pixels of the masked tubelets."""
        patches = self.patchify(self.unnormalize(imgs)).flatten(2)
        return gather_tokens(patches, split_visible_masked(mask)[1])

    @torch.no_grad()
    def object_tubelets(self, object_mask: Tensor, mask: Tensor) -> Tensor:
        """Which masked tubelets show an object (``object_threshold`` of their pixels).

        Args:
            object_mask: (B, T, H, W) bool or [0, 1] float, per pixel.
            mask: (B, T', H', W') bool, True = masked.

        Returns:
            (B, N_masked) bool, in the order of the masked tokens.
        """
        t, p = self.tubelet_size, self.patch_size
        fraction = F.avg_pool3d(object_mask.float()[:, None], (t, p, p))  # (B, 1, T', H', W')
        fraction = fraction.flatten(1)[..., None]                        # (B, N, 1)
        return gather_tokens(fraction, split_visible_masked(mask)[1])[..., 0] \
            >= self.object_threshold

    @torch.no_grad()
    def region_sums(self, pred: Tensor, imgs: Tensor, mask: Tensor,
                    object_mask: Tensor) -> Tensor:
        """Squared-error sums of the masked tubelets, object and background apart.

        Sums (not means) so that a metric can pool them over a dataset, where
        clips differ in how many masked tubelets show an object.

        Args:
            pred: (B, N_masked, tubelet*p*p*C) head-space prediction.
            imgs: (B, C, T, H, W) normalised clip.
            mask: (B, T', H', W') bool.
            object_mask: (B, T, H, W) per-pixel object mask.

        Returns:
            (B, 2, 3) float64: rows (object, background); columns (sum of squared
            errors in target space, the same in [0, 1] pixels, number of values).
        """
        is_object = self.object_tubelets(object_mask.to(pred.device), mask).double()
        err_target = (pred.float() - self.get_target(imgs, mask)).pow(2).sum(-1).double()
        pixels = self.to_pixels(pred, imgs, mask).clamp(0, 1)
        err_pixel = (pixels - self.ground_truth_pixels(imgs, mask)).pow(2).sum(-1).double()
        rows = []
        for weight in (is_object, 1.0 - is_object):  # (B, N_masked)
            rows.append(torch.stack([(err_target * weight).sum(1), (err_pixel * weight).sum(1),
                                     weight.sum(1) * pred.shape[-1]], -1))
        return torch.stack(rows, 1)

    @torch.no_grad()
    def reconstruct_video(self, pred: Tensor, imgs: Tensor, mask: Tensor) -> Tensor:
        """Full clip with masked tubelets replaced by the prediction.

        Args:
            pred: (B, N_masked, tubelet*p*p*C).
            imgs: (B, C, T, H, W) normalised clip.
            mask: (B, T', H', W') bool.

        Returns:
            (B, C, T, H, W) float32 in [0, 1]: visible tubelets from the input,
            masked ones reconstructed.
        """
        patches = self.patchify(self.unnormalize(imgs)).flatten(2)
        idx = split_visible_masked(mask)[1]
        rec = self.to_pixels(pred, imgs, mask).to(patches.dtype)
        patches = patches.scatter(1, idx.unsqueeze(-1).expand_as(rec), rec)
        return self.unpatchify(patches, tuple(mask.shape[-3:])).clamp_(0, 1)


__all__ = ['PixelReconstructionHead', 'IMAGENET_MEAN', 'IMAGENET_STD']
