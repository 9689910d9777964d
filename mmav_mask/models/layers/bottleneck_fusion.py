"""Attention bottlenecks (MBT, Nagrani et al. 2021): two streams that talk only through a few tokens."""
from __future__ import annotations

from typing import Optional, Sequence, Tuple

import torch
from torch import Tensor, nn


class BottleneckExchange(nn.Module):
    """Runs two token streams layer by layer, sharing only ``num_tokens`` bottleneck tokens.

    At each layer the video block sees ``[video, z]`` and the audio block
    ``[audio, z]``; the new ``z`` is the mean of the two streams' bottleneck
    outputs. Nothing else crosses between the modalities, so the video output
    depends on the audio only through ``z`` (a test perturbs the audio and
    checks exactly that).

    The blocks are passed to ``forward`` rather than owned here: the
    two-stream fine-tuning model runs the pretrained ViTs' own upper layers,
    and MAViL's fusion encoder runs layers of its own; each parameter keeps one
    name for the optimizer and for layer decay.

    Args:
        dim: token width (both streams must have it).
        num_tokens: bottleneck tokens (MBT and MAViL: 4).
    """

    def __init__(self, dim: int, num_tokens: int = 4) -> None:
        super().__init__()
        self.dim = dim
        self.num_tokens = num_tokens
        self.tokens = nn.Parameter(torch.zeros(1, num_tokens, dim))
        nn.init.trunc_normal_(self.tokens, std=0.02)

    def forward(self, video: Tensor, audio: Tensor, video_blocks: Sequence[nn.Module],
                audio_blocks: Sequence[nn.Module], audio_valid: Optional[Tensor] = None
                ) -> Tuple[Tensor, Tensor]:
        """Runs the paired blocks.

        Args:
            video: (B, Nv, D) video tokens.
            audio: (B, Na, D) audio tokens.
            video_blocks: L blocks mapping (B, N, D) -> (B, N, D).
            audio_blocks: L blocks, paired with ``video_blocks``.
            audio_valid: (B,) bool; where False the clip has no real audio and
                its bottleneck takes the video stream's output alone.

        Returns:
            ``(video (B, Nv, D), audio (B, Na, D))``.
        """
        if len(video_blocks) != len(audio_blocks):
            raise ValueError(f'bottleneck fusion pairs layers: {len(video_blocks)} video '
                             f'blocks against {len(audio_blocks)} audio blocks')
        if video.shape[-1] != self.dim or audio.shape[-1] != self.dim:
            raise ValueError(f'bottleneck fusion needs width {self.dim} in both streams, got '
                             f'video {video.shape[-1]} and audio {audio.shape[-1]}')
        nv, na = video.shape[1], audio.shape[1]
        z = self.tokens.expand(video.shape[0], -1, -1).to(video.dtype)
        weight = None
        if audio_valid is not None and not bool(audio_valid.all()):
            # per-sample share of the audio stream in the bottleneck mean: 1/2 or 0
            weight = audio_valid.to(video.dtype)[:, None, None] * 0.5
        for v_blk, a_blk in zip(video_blocks, audio_blocks):
            yv = v_blk(torch.cat([video, z], dim=1))
            ya = a_blk(torch.cat([audio, z], dim=1))
            video, zv = yv[:, :nv], yv[:, nv:]
            audio, za = ya[:, :na], ya[:, na:]
            z = (zv + za) / 2 if weight is None else zv + weight * (za - zv)
        return video, audio


__all__ = ['BottleneckExchange']
