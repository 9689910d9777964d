"""The paper's "w/o cross-attention" ablation: time-aligned audio concatenated
to the visible video tokens, then a linear map to the decoder width."""
from __future__ import annotations

from typing import Optional

import torch
from mmaction.registry import MODELS
from torch import Tensor, nn

from .base_fusion import NoFusion
from .fusion_utils import align_audio_to_video, valid_audio


@MODELS.register_module()
class ConcatFusion(NoFusion):
    """[video, aligned audio] @ W = encoder_to_decoder(video) + audio_to_decoder(audio).

    Each visible token gets the mean of the audio tokens of its own time slice
    (:func:`align_audio_to_video`); no attention. A sample without audio gets
    exactly :class:`NoFusion`'s output.

    Args:
        video_dim: encoder width Dv.
        decoder_dim: decoder width Ddec.
        audio_dim: audio token width Da (default Dv).
        audio_norm: LayerNorm the audio before the linear map (the video tokens
            already come out of the encoder's final norm; this puts both halves
            of the concatenation on the same scale).
    """

    def __init__(self, video_dim: int, decoder_dim: int,
                 audio_dim: Optional[int] = None, audio_norm: bool = True) -> None:
        super().__init__(video_dim, decoder_dim, audio_dim)
        self.audio_norm = nn.LayerNorm(self.audio_dim) if audio_norm else nn.Identity()
        self.audio_to_decoder = nn.Linear(self.audio_dim, decoder_dim, bias=False)
        nn.init.xavier_uniform_(self.audio_to_decoder.weight)

    @property
    def uses_audio(self) -> bool:
        return True

    def forward_visible(self, video: Tensor, video_time: Tensor,
                        audio: Optional[Tensor] = None,
                        audio_valid: Optional[Tensor] = None,
                        num_slices: int = 1) -> Tensor:
        """See :meth:`NoFusion.forward_visible`; returns (B, N, Ddec)."""
        out = super().forward_visible(video, video_time, audio, audio_valid, num_slices)
        valid = valid_audio(audio, audio_valid)
        if valid is None:
            return out
        keep = valid[:, None, None]
        audio = torch.where(keep, audio, torch.zeros_like(audio))
        aligned = align_audio_to_video(self.audio_norm(audio), video_time, num_slices)
        audio_term = self.audio_to_decoder(aligned)
        return out + torch.where(keep, audio_term, torch.zeros_like(audio_term))


__all__ = ['ConcatFusion']
