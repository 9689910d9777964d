"""VideoMAE pixel decoder: transformer blocks, LayerNorm, linear head."""
from __future__ import annotations

from typing import Optional

import torch
import torch.utils.checkpoint as cp
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn

from ..layers import Block, xavier_init_linear_


@MODELS.register_module()
class VideoMAEDecoder(BaseModule):
    """Decoder of VideoMAE pretraining (keys ``blocks.N.*``, ``norm``, ``head``).

    Input is the full decoder sequence already built by the caller
    ([visible + pos, mask tokens + pos], possibly fused with audio); the
    output predicts the last ``num_masked`` tokens' tubelet pixels.

    Args:
        embed_dims: decoder width (384 for ViT-B, 192 ViT-S, 512 ViT-L).
        depth: number of blocks (4 in VideoMAE's recipes).
        num_heads: attention heads (6 for ViT-B).
        mlp_ratio: MLP hidden width / width.
        qkv_bias: VideoMAE q/v biases.
        drop_rate: dropout after projections.
        attn_drop_rate: attention dropout.
        drop_path_rate: stochastic depth, linearly increasing over blocks.
        init_values: layer-scale init (0 = off).
        norm_eps: LayerNorm epsilon.
        patch_size, tubelet_size, in_channels: define the head's output size
            ``in_channels * tubelet_size * patch_size**2`` (1536 for 3x2x16x16).
        out_channels: head output size when the target is not pixels (e.g.
            a teacher's features in MAViL stage 2); None derives it as above.
        with_cp: activation checkpointing per block while training.
        init_cfg: mmengine init config.
    """

    def __init__(self, embed_dims: int = 384, depth: int = 4, num_heads: int = 6,
                 mlp_ratio: float = 4.0, qkv_bias: bool = True, drop_rate: float = 0.0,
                 attn_drop_rate: float = 0.0, drop_path_rate: float = 0.0,
                 init_values: float = 0.0, norm_eps: float = 1e-6, patch_size: int = 16,
                 tubelet_size: int = 2, in_channels: int = 3, with_cp: bool = False,
                 out_channels: Optional[int] = None, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.embed_dims = embed_dims
        self.out_channels = int(out_channels or in_channels * tubelet_size * patch_size ** 2)
        self.with_cp = with_cp
        dpr = torch.linspace(0, drop_path_rate, depth).tolist()
        self.blocks = nn.ModuleList([
            Block(embed_dims, num_heads, mlp_ratio, qkv_bias, drop_rate, attn_drop_rate,
                  dpr[i], init_values, norm_eps) for i in range(depth)])
        self.norm = nn.LayerNorm(embed_dims, eps=norm_eps)
        self.head = nn.Linear(embed_dims, self.out_channels)
        xavier_init_linear_(self)

    def forward_features(self, x: Tensor, attn_mask: Optional[Tensor] = None) -> Tensor:
        """Blocks and final norm without the head: (B, N, D) -> (B, N, D).

        ``attn_mask``: optional bool (B, N) key mask, True = attend.
        """
        for blk in self.blocks:
            if self.with_cp and self.training and x.requires_grad:
                x = cp.checkpoint(blk, x, attn_mask, use_reentrant=False)
            else:
                x = blk(x, attn_mask)
        return self.norm(x)

    def forward(self, x: Tensor, num_masked: int = 0) -> Tensor:
        """Decodes the sequence.

        Args:
            x: (B, N_all, embed_dims) decoder tokens, mask tokens last.
            num_masked: how many trailing tokens to predict; <= 0 predicts all.

        Returns:
            (B, num_masked or N_all, out_channels).
        """
        x = self.forward_features(x)
        if num_masked > 0:
            x = x[:, -num_masked:]  # only the mask tokens' outputs are predictions
        return self.head(x)


__all__ = ['VideoMAEDecoder']
