"""AV-MaskEnhancer's fusion (paper eq. 2): bidirectional cross-attention, time
alignment, channel concatenation, linear map to the decoder width."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from mmaction.registry import MODELS
from torch import Tensor, nn

from .base_fusion import NoFusion
from .fusion_utils import TalkNetAttentionLayer, align_audio_to_video, valid_audio


@MODELS.register_module()
class CrossAttentionFusion(NoFusion):
    """Cross-attention fusion of the visible video tokens with the audio tokens.

    Both directions start from the ORIGINAL streams (as TalkNet, unlike the
    authors' sequential fork):

    * T_v->a = Layer(query = visible video tokens, source = audio): (B, N, Dv);
    * T_a->v = Layer(query = audio tokens, source = visible video): (B, T_a, Dv),
      pooled to the T' tubelet slices and gathered by each video token's slice,
      so a token gets the audio context of its own time only.

    The concatenation [T_v->a, T_a->v] @ W to the decoder width is computed as
    ``encoder_to_decoder(T_v->a) + audio_to_decoder(T_a->v)``. A sample without
    audio takes the plain video tokens and no audio term, i.e. exactly
    :class:`NoFusion`'s output with the same ``encoder_to_decoder``.

    Args:
        video_dim: encoder width Dv.
        decoder_dim: decoder width Ddec.
        audio_dim: audio token width Da (default Dv); projected to Dv when different.
        num_heads: heads of both cross-attention layers (TalkNet: 8).
        dropout: dropout of the attention layers (TalkNet: 0.1).
    """

    def __init__(self, video_dim: int, decoder_dim: int,
                 audio_dim: Optional[int] = None, num_heads: int = 8,
                 dropout: float = 0.1) -> None:
        super().__init__(video_dim, decoder_dim, audio_dim)
        self.audio_proj = (nn.Identity() if self.audio_dim == video_dim
                           else nn.Linear(self.audio_dim, video_dim))
        self.cross_v2a = TalkNetAttentionLayer(video_dim, num_heads, dropout)
        self.cross_a2v = TalkNetAttentionLayer(video_dim, num_heads, dropout)
        # W_a: the audio half of the concat -> decoder linear (bias-free like W_v)
        self.audio_to_decoder = nn.Linear(video_dim, decoder_dim, bias=False)
        nn.init.xavier_uniform_(self.audio_to_decoder.weight)
        if isinstance(self.audio_proj, nn.Linear):
            nn.init.xavier_uniform_(self.audio_proj.weight)
            nn.init.zeros_(self.audio_proj.bias)

    @property
    def uses_audio(self) -> bool:
        return True

    def audio_context(self, video: Tensor, video_time: Tensor, audio: Tensor,
                      num_slices: int) -> Tuple[Tensor, Tensor]:
        """Both cross-attention directions, without the validity selection.

        Args:
            video: (B, N, Dv) visible tokens.
            video_time: (B, N) slice index of each token.
            audio: (B, T_a, Da) audio tokens.
            num_slices: T'.

        Returns:
            (T_v->a (B, N, Dv), T_a->v aligned to the video tokens (B, N, Dv)).
        """
        audio = self.audio_proj(audio)
        t_va = self.cross_v2a(video, audio)
        t_av = align_audio_to_video(self.cross_a2v(audio, video), video_time, num_slices)
        return t_va, t_av

    def forward_visible(self, video: Tensor, video_time: Tensor,
                        audio: Optional[Tensor] = None,
                        audio_valid: Optional[Tensor] = None,
                        num_slices: int = 1) -> Tensor:
        """Fuses audio into the visible tokens; see :meth:`NoFusion.forward_visible`.

        Returns:
            (B, N, Ddec).
        """
        valid = valid_audio(audio, audio_valid)
        if valid is None:  # no sample has audio: the VideoMAE path
            return super().forward_visible(video, video_time, audio, audio_valid, num_slices)
        keep = valid[:, None, None]
        # zero the unusable audio so the discarded branch stays finite (no NaN grads)
        audio = torch.where(keep, audio, torch.zeros_like(audio))
        t_va, t_av = self.audio_context(video, video_time, audio, num_slices)
        fused = self.encoder_to_decoder(torch.where(keep, t_va, video))
        audio_term = self.audio_to_decoder(t_av)
        return fused + torch.where(keep, audio_term, torch.zeros_like(audio_term))


__all__ = ['CrossAttentionFusion']
