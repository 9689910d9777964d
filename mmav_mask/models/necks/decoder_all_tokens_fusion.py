"""The authors' public-code fusion, done correctly: in decoder width, over all
decoder tokens (visible + mask tokens), with sizes taken from the inputs."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from mmaction.registry import MODELS
from torch import Tensor, nn

from .base_fusion import NoFusion
from .fusion_utils import TalkNetAttentionLayer, align_audio_to_video, valid_audio


@MODELS.register_module()
class DecoderAllTokensFusion(NoFusion):
    """Cross A->V and V->A on the full decoder sequence, concat, self-attention at 2C, 2C->C.

    Differences from the authors' VideoMAE fork (xid32/189VU_Github_sample): both directions
    start from the original streams; the audio tokens are not repeated a
    hard-coded number of times: the audio-query rows are pooled to the T'
    slices and gathered by each decoder token's slice (its own time only).
    ``forward_visible`` is :class:`NoFusion`'s; samples without audio leave
    ``forward_decoder`` unchanged (identity, as :class:`NoFusion`).

    Args:
        video_dim: encoder width Dv.
        decoder_dim: decoder width C.
        audio_dim: audio token width Da (default Dv), projected to C.
        num_heads: heads of the three attention layers; must divide C.
        dropout: dropout of the attention layers.
    """

    def __init__(self, video_dim: int, decoder_dim: int,
                 audio_dim: Optional[int] = None, num_heads: int = 8,
                 dropout: float = 0.1) -> None:
        super().__init__(video_dim, decoder_dim, audio_dim)
        self.audio_proj = nn.Linear(self.audio_dim, decoder_dim)
        self.cross_v2a = TalkNetAttentionLayer(decoder_dim, num_heads, dropout)
        self.cross_a2v = TalkNetAttentionLayer(decoder_dim, num_heads, dropout)
        self.self_av = TalkNetAttentionLayer(2 * decoder_dim, num_heads, dropout)
        self.out_proj = nn.Linear(2 * decoder_dim, decoder_dim)
        for m in (self.audio_proj, self.out_proj):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)

    @property
    def uses_audio(self) -> bool:
        return True

    def audio_context(self, tokens: Tensor, token_time: Tensor, audio: Tensor,
                      num_slices: int) -> Tuple[Tensor, Tensor]:
        """Both cross-attention directions, without the validity selection.

        Args:
            tokens: (B, N_all, C) decoder tokens.
            token_time: (B, N_all) slice index of each token.
            audio: (B, T_a, Da) audio tokens.
            num_slices: T'.

        Returns:
            (T_v->a (B, N_all, C), T_a->v aligned to the tokens (B, N_all, C)).
        """
        audio = self.audio_proj(audio)
        t_va = self.cross_v2a(tokens, audio)
        t_av = align_audio_to_video(self.cross_a2v(audio, tokens), token_time, num_slices)
        return t_va, t_av

    def forward_decoder(self, tokens: Tensor, token_time: Tensor,
                        audio: Optional[Tensor] = None,
                        audio_valid: Optional[Tensor] = None,
                        num_slices: int = 1) -> Tensor:
        """Fuses audio into all decoder tokens.

        Args:
            tokens: (B, N_all, C) visible + mask tokens with positions.
            token_time: (B, N_all) long slice index of each token.
            audio: (B, T_a, Da) audio tokens or None.
            audio_valid: (B,) bool or None.
            num_slices: T'.

        Returns:
            (B, N_all, C); ``tokens`` unchanged for samples without audio.
        """
        valid = valid_audio(audio, audio_valid)
        if valid is None:
            return tokens
        keep = valid[:, None, None]
        audio = torch.where(keep, audio, torch.zeros_like(audio))
        fused = torch.cat(self.audio_context(tokens, token_time, audio, num_slices), dim=-1)
        fused = self.out_proj(self.self_av(fused, fused))
        return torch.where(keep, fused, tokens)


__all__ = ['DecoderAllTokensFusion']
