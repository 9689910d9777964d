"""Pieces shared by the audio-visual fusion modules.

* :func:`align_audio_to_video`: brings per-audio-token rows onto the tokens of
  the video (or decoder) sequence, each token getting the rows of its own time
  slice only.
* :func:`valid_audio`: one (B,) bool answer to "does this sample carry audio".
* :class:`TalkNetAttentionLayer`: TalkNet's cross-attention layer (post-norm
  attention of a query stream over a source stream, then a ReLU FFN), built on
  the shared SDPA :class:`~mmav_mask.models.layers.CrossAttention`.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..layers import CrossAttention, xavier_init_linear_


def align_audio_to_video(rows: Tensor, token_time: Tensor, num_slices: int) -> Tensor:
    """Gives every token the mean of the audio rows of its own time slice.

    The T_a audio rows cover the clip's window in equal time bins (row k = bin
    k of T_a); they are average-pooled to the ``num_slices`` tubelet slices and
    gathered by each token's slice index. With T_a a multiple of T' (16 tokens
    for 8 slices of tubelet 2) slice s averages exactly rows
    [s * T_a / T', (s + 1) * T_a / T'); otherwise adaptive pooling's bins
    overlap by at most one row.

    Args:
        rows: (B, T_a, D) one row per audio token.
        token_time: (B, N) long slice index of each token in [0, num_slices).
        num_slices: T', number of time slices.

    Returns:
        (B, N, D) the aligned audio rows.
    """
    pooled = F.adaptive_avg_pool1d(rows.transpose(1, 2), num_slices).transpose(1, 2)
    index = token_time.long().unsqueeze(-1).expand(-1, -1, rows.shape[-1])
    return torch.gather(pooled, 1, index)


def valid_audio(audio: Optional[Tensor], audio_valid: Optional[Tensor]) -> Optional[Tensor]:
    """(B,) bool of samples whose audio is usable, or None when no sample has any.

    Args:
        audio: (B, T_a, D) audio tokens or None.
        audio_valid: (B,) bool or None (None = every sample has audio).
    """
    if audio is None:
        return None
    if audio_valid is None:
        return torch.ones(audio.shape[0], dtype=torch.bool, device=audio.device)
    valid = audio_valid.to(device=audio.device, dtype=torch.bool).reshape(-1)
    if valid.numel() != audio.shape[0]:
        raise ValueError(f'audio_valid has {valid.numel()} entries for {audio.shape[0]} samples')
    return valid if bool(valid.any()) else None


class TalkNetAttentionLayer(nn.Module):
    """TalkNet's attention layer: x = LN(q + Attn(q, src)); out = LN(x + FFN(x)).

    Query = the target stream, key/value = the source stream; pass the same
    tensor twice for self-attention. TalkNet adds the residual to the SOURCE
    stream (possible there because both streams have the same length); here the
    residual goes to the query stream, so the output has one row per query.

    Args:
        dim: query (and output) width.
        num_heads: attention heads (8 in TalkNet).
        dropout: attention-weight, residual and FFN dropout (0.1 in TalkNet).
        kv_dim: source width; defaults to ``dim``.
        ffn_ratio: FFN hidden width / dim (4 in TalkNet), ReLU activation.
    """

    def __init__(self, dim: int, num_heads: int = 8, dropout: float = 0.1,
                 kv_dim: Optional[int] = None, ffn_ratio: int = 4) -> None:
        super().__init__()
        self.attn = CrossAttention(dim, num_heads, kv_dim=kv_dim, qkv_bias=True,
                                   attn_drop=dropout, proj_drop=dropout)
        self.norm1 = nn.LayerNorm(dim)
        self.ffn = nn.Sequential(
            nn.Linear(dim, dim * ffn_ratio), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(dim * ffn_ratio, dim), nn.Dropout(dropout))
        self.norm2 = nn.LayerNorm(dim)
        xavier_init_linear_(self)

    def forward(self, query: Tensor, source: Tensor,
                key_mask: Optional[Tensor] = None) -> Tensor:
        """Attends ``query`` over ``source``.

        Args:
            query: (B, Nq, dim).
            source: (B, Nk, kv_dim).
            key_mask: optional (B, Nk) bool, True = attend; never all False in a row.

        Returns:
            (B, Nq, dim).
        """
        x = self.norm1(query + self.attn(query, source, key_mask))
        return self.norm2(x + self.ffn(x))


__all__ = ['align_audio_to_video', 'valid_audio', 'TalkNetAttentionLayer']
