"""Multi-head attention through ``F.scaled_dot_product_attention``.

Parameter names follow VideoMAE (``qkv.weight``, ``q_bias``, ``v_bias``,
``proj``) so official checkpoints map one to one; SDPA picks the fused
flash / memory-efficient kernel when the device and dtype allow it.
"""
from __future__ import annotations

from typing import Optional

import torch
import torch.nn.functional as F
from torch import Tensor, nn


def multi_head_sdpa(q: Tensor, k: Tensor, v: Tensor, num_heads: int,
                    attn_mask: Optional[Tensor] = None, dropout_p: float = 0.0) -> Tensor:
    """Splits heads, attends, merges heads.

    Args:
        q: (B, Nq, C) queries.
        k: (B, Nk, C) keys.
        v: (B, Nk, C) values.
        num_heads: number of heads; C must be divisible by it.
        attn_mask: optional bool (B, Nk) key mask, True = attend.
        dropout_p: attention dropout (pass 0 in eval).

    Returns:
        (B, Nq, C) attended values.
    """
    B, Nq, C = q.shape
    split = lambda x: x.reshape(B, x.shape[1], num_heads, C // num_heads).transpose(1, 2)  # noqa: E731
    mask = None if attn_mask is None else attn_mask[:, None, None, :]
    out = F.scaled_dot_product_attention(split(q), split(k), split(v), attn_mask=mask,
                                         dropout_p=dropout_p)
    return out.transpose(1, 2).reshape(B, Nq, C)


class Attention(nn.Module):
    """Self-attention with VideoMAE's bias scheme (q and v biased, k not).

    Args:
        dim: token width C.
        num_heads: number of heads.
        qkv_bias: learn ``q_bias`` and ``v_bias`` (k bias is fixed at zero).
        attn_drop: attention dropout.
        proj_drop: dropout after the output projection.
    """

    def __init__(self, dim: int, num_heads: int = 8, qkv_bias: bool = True,
                 attn_drop: float = 0.0, proj_drop: float = 0.0) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'dim {dim} is not divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=False)
        if qkv_bias:
            self.q_bias = nn.Parameter(torch.zeros(dim))
            self.v_bias = nn.Parameter(torch.zeros(dim))
        else:
            self.q_bias = self.v_bias = None
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: Tensor, attn_mask: Optional[Tensor] = None) -> Tensor:
        """(B, N, C) -> (B, N, C); ``attn_mask`` is a bool (B, N) key mask."""
        bias = None
        if self.q_bias is not None:
            bias = torch.cat([self.q_bias, torch.zeros_like(self.v_bias), self.v_bias])
        q, k, v = F.linear(x, self.qkv.weight, bias).chunk(3, dim=-1)
        out = multi_head_sdpa(q, k, v, self.num_heads, attn_mask,
                              self.attn_drop if self.training else 0.0)
        return self.proj_drop(self.proj(out))


class CrossAttention(nn.Module):
    """Attention of one token stream (query) over another (key/value).

    Args:
        dim: query width C (also the output width).
        num_heads: number of heads.
        kv_dim: width of the key/value stream; defaults to ``dim``.
        qkv_bias: biases on the q/k/v projections.
        attn_drop: attention dropout.
        proj_drop: dropout after the output projection.
    """

    def __init__(self, dim: int, num_heads: int = 8, kv_dim: Optional[int] = None,
                 qkv_bias: bool = True, attn_drop: float = 0.0,
                 proj_drop: float = 0.0) -> None:
        super().__init__()
        if dim % num_heads:
            raise ValueError(f'dim {dim} is not divisible by num_heads {num_heads}')
        self.num_heads = num_heads
        self.q = nn.Linear(dim, dim, bias=qkv_bias)
        self.kv = nn.Linear(kv_dim or dim, dim * 2, bias=qkv_bias)
        self.attn_drop = attn_drop
        self.proj = nn.Linear(dim, dim)
        self.proj_drop = nn.Dropout(proj_drop)

    def forward(self, x: Tensor, context: Tensor,
                attn_mask: Optional[Tensor] = None) -> Tensor:
        """x: (B, Nq, C), context: (B, Nk, C_kv) -> (B, Nq, C).

        ``attn_mask`` is a bool (B, Nk) key mask (True = attend); a row with no
        key to attend yields NaN, so callers must not pass all-False rows.
        """
        k, v = self.kv(context).chunk(2, dim=-1)
        out = multi_head_sdpa(self.q(x), k, v, self.num_heads, attn_mask,
                              self.attn_drop if self.training else 0.0)
        return self.proj_drop(self.proj(out))
