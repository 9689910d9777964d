"""VideoMAE ViT encoder that embeds a clip and encodes only its visible tubelets."""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.utils.checkpoint as cp
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn

from ..layers import Block, sinusoid_position_table, xavier_init_linear_
from ..utils.masking import gather_tokens, split_visible_masked

# VideoMAE sizes (embed_dims, depth, num_heads).
ARCH_SETTINGS: Dict[str, Dict[str, int]] = {
    'small': dict(embed_dims=384, depth=12, num_heads=6),
    'base': dict(embed_dims=768, depth=12, num_heads=12),
    'large': dict(embed_dims=1024, depth=24, num_heads=16),
    'huge': dict(embed_dims=1280, depth=32, num_heads=16),
}


class PatchEmbed3D(nn.Module):
    """Conv3d tubelet embedding: (B, C, T, H, W) -> (B, T'*H'*W', D), raster order."""

    def __init__(self, in_channels: int, embed_dims: int, patch_size: int,
                 tubelet_size: int) -> None:
        super().__init__()
        kernel = (tubelet_size, patch_size, patch_size)
        self.proj = nn.Conv3d(in_channels, embed_dims, kernel_size=kernel, stride=kernel)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


@MODELS.register_module()
class MaskedVideoViT(BaseModule):
    """VideoMAE encoder (no cls token, fixed sinusoid positions) for masked input.

    Parameter names equal the official VideoMAE encoder's without ``encoder.``
    (``patch_embed.proj``, ``blocks.N.attn.{qkv.weight,q_bias,v_bias,proj}``,
    ``blocks.N.mlp.fc1/fc2``, ``norm``). The position table is a non-persistent
    buffer, as official checkpoints do not store it.

    Args:
        arch: 'small' | 'base' | 'large' | 'huge', or a dict with
            ``embed_dims``, ``depth``, ``num_heads``; explicit arguments below
            override it.
        img_size: input height = width.
        num_frames: input frames T.
        patch_size: spatial patch size.
        tubelet_size: frames per tubelet.
        in_channels: input channels.
        embed_dims, depth, num_heads: explicit sizes (override ``arch``).
        mlp_ratio: MLP hidden width / width.
        qkv_bias: VideoMAE q/v biases.
        drop_rate: dropout after projections.
        attn_drop_rate: attention dropout.
        drop_path_rate: stochastic depth, linearly increasing over blocks.
        init_values: layer-scale init (0 = off, VideoMAE pretraining).
        norm_eps: LayerNorm epsilon.
        with_cp: activation checkpointing per block while training.
        use_mean_pooling: read-out of MMAction2's ``VisionTransformer`` (and
            VideoMAE fine-tuning): no token-wise final norm, the output is
            ``fc_norm(mean of tokens)`` (B, D). False (pretraining) returns
            the tokens after the final ``norm`` (B, N, D).
        pretrained: optional official VideoMAE (or converted) checkpoint; its
            encoder weights are loaded in :meth:`init_weights`.
        init_cfg: mmengine init config.
    """

    def __init__(self, arch: Union[str, Dict[str, int]] = 'base', img_size: int = 224,
                 num_frames: int = 16, patch_size: int = 16, tubelet_size: int = 2,
                 in_channels: int = 3, embed_dims: Optional[int] = None,
                 depth: Optional[int] = None, num_heads: Optional[int] = None,
                 mlp_ratio: float = 4.0, qkv_bias: bool = True, drop_rate: float = 0.0,
                 attn_drop_rate: float = 0.0, drop_path_rate: float = 0.0,
                 init_values: float = 0.0, norm_eps: float = 1e-6, with_cp: bool = False,
                 use_mean_pooling: bool = False,
                 pretrained: Optional[str] = None, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(arch, str):
            if arch not in ARCH_SETTINGS:
                raise KeyError(f'Unknown arch {arch!r}; choose from {sorted(ARCH_SETTINGS)} '
                               'or pass a dict.')
            arch = ARCH_SETTINGS[arch]
        self.embed_dims = int(embed_dims or arch['embed_dims'])
        self.depth = int(depth or arch['depth'])
        self.num_heads = int(num_heads or arch['num_heads'])
        if img_size % patch_size or num_frames % tubelet_size:
            raise ValueError(f'img_size {img_size} / num_frames {num_frames} must be '
                             f'multiples of patch_size {patch_size} / tubelet_size '
                             f'{tubelet_size}.')
        self.patch_size = patch_size
        self.tubelet_size = tubelet_size
        self.in_channels = in_channels
        self.grid_size: Tuple[int, int, int] = (num_frames // tubelet_size,
                                                 img_size // patch_size,
                                                 img_size // patch_size)
        self.num_patches = self.grid_size[0] * self.grid_size[1] * self.grid_size[2]
        self.with_cp = with_cp
        self.pretrained = pretrained

        self.patch_embed = PatchEmbed3D(in_channels, self.embed_dims, patch_size, tubelet_size)
        # Fixed table, recomputed from the sizes: not part of the state dict.
        self.register_buffer('pos_embed',
                             sinusoid_position_table(self.num_patches, self.embed_dims),
                             persistent=False)
        dpr = torch.linspace(0, drop_path_rate, self.depth).tolist()
        self.blocks = nn.ModuleList([
            Block(self.embed_dims, self.num_heads, mlp_ratio, qkv_bias, drop_rate,
                  attn_drop_rate, dpr[i], init_values, norm_eps) for i in range(self.depth)])
        self.use_mean_pooling = use_mean_pooling
        if use_mean_pooling:  # parameter names as MMAction2's VisionTransformer
            self.norm = nn.Identity()
            self.fc_norm = nn.LayerNorm(self.embed_dims, eps=norm_eps)
        else:
            self.norm = nn.LayerNorm(self.embed_dims, eps=norm_eps)
            self.fc_norm = None
        # VideoMAE: Xavier-uniform Linear, zero bias, unit LayerNorm; Conv3d keeps
        # PyTorch's default init (VideoMAE's init hook does not touch it).
        xavier_init_linear_(self)

    def init_weights(self) -> None:
        """Default init (done in ``__init__``), then optional pretrained weights."""
        super().init_weights()
        if self.pretrained:
            from ..checkpoint_layouts import load_pretrained
            load_pretrained(self, self.pretrained, prefix='backbone.')

    def position_table(self, num_tokens: int, like: Tensor) -> Tensor:
        """(1, num_tokens, D) sinusoid table in ``like``'s dtype/device.

        A different input size than configured gets a fresh 1-D table over the
        flattened (t, h, w) index, as VideoMAE builds for that size.
        """
        table = self.pos_embed
        if table.shape[1] != num_tokens:
            table = sinusoid_position_table(num_tokens, self.embed_dims).to(like.device)
        return table.to(like.dtype)

    def forward(self, imgs: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """Encodes the visible tubelets.

        Args:
            imgs: (B, C, T, H, W) normalised clip.
            mask: (B, T', H', W') (or (B, N)) bool, True = masked; None encodes
                every token. Each sample must mask the same number of tokens.

        Returns:
            (B, N_visible, D) tokens after the final LayerNorm, in ascending
            raster order of their positions; with ``use_mean_pooling`` the
            (B, D) ``fc_norm`` of their mean.
        """
        x = self.patch_embed(imgs)
        x = x + self.position_table(x.shape[1], x)
        if mask is not None:
            if mask[0].numel() != x.shape[1]:
                raise ValueError(f'mask has {mask[0].numel()} positions per sample but the '
                                 f'clip gives {x.shape[1]} tokens.')
            visible_idx, _ = split_visible_masked(mask)
            x = gather_tokens(x, visible_idx)
        for blk in self.blocks:
            if self.with_cp and self.training and x.requires_grad:
                x = cp.checkpoint(blk, x, use_reentrant=False)
            else:
                x = blk(x)
        if self.fc_norm is not None:
            return self.fc_norm(x.mean(dim=1))
        return self.norm(x)


__all__ = ['MaskedVideoViT', 'PatchEmbed3D', 'ARCH_SETTINGS']
