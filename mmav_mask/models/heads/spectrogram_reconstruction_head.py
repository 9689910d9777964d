"""Spectrogram-patch target and MSE loss: the pixel head on a one-channel 'video'."""
from __future__ import annotations

from typing import Dict, Optional

import torch
from mmaction.registry import MODELS
from torch import Tensor

from ..utils.masking import split_visible_masked
from .pixel_reconstruction_head import PixelReconstructionHead


@MODELS.register_module()
class SpectrogramReconstructionHead(PixelReconstructionHead):
    """MSE on masked spectrogram patches (Audiovisual MAE's audio loss).

    A (B, L, F) spectrogram is the pixel head's (B, 1, 1, L, F) clip with
    ``tubelet_size=1`` and ``in_channels=1``, so patch layout, the optional
    per-patch normalised target and the loss are the pixel head's own code.
    Patches are in raster (time-major) order, each vector (dy, dx) row-major:
    the order of :class:`SpectrogramViT`. Values stay in the spectrogram's own
    units (no [0, 1] pixel mapping, no clamping); rows past the last whole
    patch are ignored, as the encoder ignores them.

    Args:
        patch_size: square patch side (16).
        norm_pix: per-patch normalised target ``(x - mean) / (sqrt(unbiased
            var) + eps)`` over the patch's p * p values; False (default) is
            the plain spectrogram.
        eps: epsilon of the normalised target.
        loss_weight: multiplier of the loss.
        init_cfg: mmengine init config.
    """

    def __init__(self, patch_size: int = 16, norm_pix: bool = False, eps: float = 1e-6,
                 loss_weight: float = 1.0, init_cfg: Optional[dict] = None) -> None:
        # mean 0 / std 255 on the pixel head's 0-255 scale is the identity map
        super().__init__(patch_size=patch_size, tubelet_size=1, in_channels=1,
                         norm_pix=norm_pix, mean=(0.0, ), std=(255.0, ), eps=eps,
                         loss_weight=loss_weight, init_cfg=init_cfg)

    def unnormalize(self, imgs: Tensor) -> Tensor:
        """Spectrogram values are used as they are."""
        return imgs.float()

    def as_clip(self, audio: Tensor) -> Tensor:
        """(B, L, F) or (B, 1, L, F) -> (B, 1, 1, L', F') cropped to whole patches
        (a 5-D clip passes through: the parent's methods call the overrides)."""
        if audio.dim() == 5:
            return audio
        if audio.dim() == 4:
            audio = audio[:, 0]
        if audio.dim() != 3:
            raise ValueError(f'expected a (B, L, F) spectrogram, got {tuple(audio.shape)}')
        p = self.patch_size
        lg, fg = audio.shape[1] // p, audio.shape[2] // p
        return audio[:, None, None, :lg * p, :fg * p]

    def get_target(self, audio: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """(B, N_masked, p*p) target of the masked patches (all patches if mask is None)."""
        return super().get_target(self.as_clip(audio), mask)

    def loss(self, pred: Tensor, audio: Tensor, mask: Tensor) -> Dict[str, Tensor]:
        """``dict(loss_rec)``: MSE over the masked patches' values."""
        return super().loss(pred, self.as_clip(audio), mask)

    def to_pixels(self, pred: Tensor, audio: Tensor, mask: Tensor) -> Tensor:
        """Predictions in spectrogram units (de-normalised per patch with ``norm_pix``)."""
        return super().to_pixels(pred, self.as_clip(audio), mask)

    def ground_truth_pixels(self, audio: Tensor, mask: Tensor) -> Tensor:
        """(B, N_masked, p*p) spectrogram values of the masked patches."""
        return super().ground_truth_pixels(self.as_clip(audio), mask)

    @torch.no_grad()
    def reconstruct_spectrogram(self, pred: Tensor, audio: Tensor, mask: Tensor) -> Tensor:
        """(B, L', F') spectrogram with the masked patches replaced by the prediction."""
        clip = self.as_clip(audio)
        patches = self.patchify(self.unnormalize(clip)).flatten(2)
        idx = split_visible_masked(mask)[1]
        rec = self.to_pixels(pred, audio, mask).to(patches.dtype)
        patches = patches.scatter(1, idx.unsqueeze(-1).expand_as(rec), rec)
        grid = (1, clip.shape[-2] // self.patch_size, clip.shape[-1] // self.patch_size)
        return self.unpatchify(patches, grid)[:, 0, 0]


__all__ = ['SpectrogramReconstructionHead']
