"""Pre-norm transformer block (VideoMAE / timm layout) and sinusoid positions."""
from __future__ import annotations

from typing import Optional

import torch
from mmcv.cnn.bricks.drop import DropPath
from torch import Tensor, nn

from .attention import Attention


class Mlp(nn.Module):
    """fc1 -> GELU -> fc2 -> dropout (VideoMAE: no dropout between fc1 and fc2)."""

    def __init__(self, dim: int, hidden_dim: int, drop: float = 0.0) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden_dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden_dim, dim)
        self.drop = nn.Dropout(drop)

    def forward(self, x: Tensor) -> Tensor:
        return self.drop(self.fc2(self.act(self.fc1(x))))


class Block(nn.Module):
    """x + attn(norm1(x)), then x + mlp(norm2(x)), with optional layer scale.

    Args:
        dim: token width.
        num_heads: attention heads.
        mlp_ratio: MLP hidden width / dim.
        qkv_bias: VideoMAE q/v bias.
        drop: dropout after projections.
        attn_drop: attention dropout.
        drop_path: stochastic depth rate.
        init_values: layer-scale init; 0 disables layer scale (VideoMAE pretraining).
        norm_eps: LayerNorm epsilon (1e-6 in VideoMAE).
    """

    def __init__(self, dim: int, num_heads: int, mlp_ratio: float = 4.0,
                 qkv_bias: bool = True, drop: float = 0.0, attn_drop: float = 0.0,
                 drop_path: float = 0.0, init_values: float = 0.0,
                 norm_eps: float = 1e-6) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=norm_eps)
        self.attn = Attention(dim, num_heads, qkv_bias, attn_drop, drop)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=norm_eps)
        self.mlp = Mlp(dim, int(dim * mlp_ratio), drop)
        if init_values > 0:
            self.gamma_1 = nn.Parameter(init_values * torch.ones(dim))
            self.gamma_2 = nn.Parameter(init_values * torch.ones(dim))
        else:
            self.gamma_1 = self.gamma_2 = None

    def forward(self, x: Tensor, attn_mask: Optional[Tensor] = None) -> Tensor:
        """(B, N, C) -> (B, N, C)."""
        y = self.attn(self.norm1(x), attn_mask)
        x = x + self.drop_path(y if self.gamma_1 is None else self.gamma_1 * y)
        y = self.mlp(self.norm2(x))
        return x + self.drop_path(y if self.gamma_2 is None else self.gamma_2 * y)


def sinusoid_position_table(num_positions: int, dim: int) -> Tensor:
    """Fixed (1, num_positions, dim) table of VideoMAE/Transformer sinusoids.

    Channel j uses angle pos / 10000^(2*(j//2)/dim); even channels take sin,
    odd channels cos (interleaved, as in VideoMAE's get_sinusoid_encoding_table).
    """
    pos = torch.arange(num_positions, dtype=torch.float64)[:, None]
    # float64 exponent: float32 drifts up to 6e-5 from VideoMAE's numpy table at ViT-B size
    j = torch.arange(dim, dtype=torch.float64)
    angle = pos / torch.pow(10000.0, 2 * torch.div(j, 2, rounding_mode='floor') / dim)
    table = torch.where(j % 2 == 0, torch.sin(angle), torch.cos(angle))
    return table.float()[None]


def xavier_init_linear_(module: nn.Module) -> None:
    """VideoMAE init: Xavier-uniform Linear weights, zero bias, unit LayerNorm."""
    for m in module.modules():
        if isinstance(m, nn.Linear):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.LayerNorm):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)


__all__ = ['Mlp', 'Block', 'sinusoid_position_table', 'xavier_init_linear_']
