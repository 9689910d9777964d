"""Spectrogram ViT (Audiovisual MAE / AudioMAE style) that encodes visible patches."""
from __future__ import annotations

from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.utils.checkpoint as cp
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn

from ..layers import Block, xavier_init_linear_
from ..utils.masking import gather_tokens, split_visible_masked

# (embed_dims, depth, num_heads); 'tiny' is for CPU demos, the rest are ViT sizes.
SPEC_ARCH_SETTINGS: Dict[str, Dict[str, int]] = {
    'tiny': dict(embed_dims=96, depth=2, num_heads=3),
    'small': dict(embed_dims=384, depth=12, num_heads=6),
    'base': dict(embed_dims=768, depth=12, num_heads=12),
    'large': dict(embed_dims=1024, depth=24, num_heads=16),
}


def sincos_1d(pos: Tensor, dim: int) -> Tensor:
    """(N,) positions -> (N, dim) as [sin(pos * w_i), cos(pos * w_i)], w_i = 1e4^(-i/(dim/2))."""
    if dim % 2:
        raise ValueError(f'sin-cos embedding needs an even width, got {dim}')
    omega = 1.0 / 10000.0 ** (torch.arange(dim // 2, dtype=torch.float64) / (dim / 2.0))
    angle = pos.double()[:, None] * omega[None]
    return torch.cat([torch.sin(angle), torch.cos(angle)], dim=1)


def sincos_2d_position_table(grid: Sequence[int], dim: int) -> Tensor:
    """Fixed 2-D sin-cos table (MAE style) for a (time, freq) patch grid.

    The first ``dim / 2`` channels encode the time index, the rest the
    frequency index, each with :func:`sincos_1d`.

    Args:
        grid: (Tg, Fg) patches along time and frequency.
        dim: width, divisible by 4.

    Returns:
        float32 (1, Tg * Fg, dim), tokens in raster (time-major) order.
    """
    if dim % 4:
        raise ValueError(f'2-D sin-cos positions need a width divisible by 4, got {dim}')
    tg, fg = int(grid[0]), int(grid[1])
    t_idx = torch.arange(tg).repeat_interleave(fg)
    f_idx = torch.arange(fg).repeat(tg)
    table = torch.cat([sincos_1d(t_idx, dim // 2), sincos_1d(f_idx, dim // 2)], dim=1)
    return table.float()[None]


@MODELS.register_module()
class SpectrogramViT(BaseModule):
    """ViT over 16 x 16 patches of a log-mel spectrogram, encoding visible patches.

    Input is ``audio_feature`` as ``AudioFbank`` makes it, time rows first:
    (B, L, F) (or (B, 1, L, F)). Patches are taken in raster order (time
    major, frequency minor), the order of an audio mask (B, L/p, F/p) from
    ``AudioMaskGenerator`` flattened. Rows past the last whole patch (e.g. the
    last 8 rows of 1000) are dropped, as a strided patch convolution does.
    Positions are a fixed 2-D sin-cos table, recomputed for each grid size
    (8 s and 10 s of audio use the same weights).

    Args:
        arch: 'tiny' | 'small' | 'base' | 'large' or a dict with
            ``embed_dims``, ``depth``, ``num_heads``.
        input_size: (L, F) expected spectrogram size; sets the cached table
            (128 x 800 = 8 s at 100 rows/s, 128 bins gives 50 x 8 = 400 tokens).
        patch_size: square patch side.
        in_channels: spectrogram channels (1).
        embed_dims, depth, num_heads: explicit sizes (override ``arch``).
        mlp_ratio, qkv_bias, drop_rate, attn_drop_rate, drop_path_rate,
            init_values, norm_eps: as in ``MaskedVideoViT``.
        with_cp: activation checkpointing per block while training.
        init_cfg: mmengine init config.
    """

    def __init__(self, arch: Union[str, Dict[str, int]] = 'base',
                 input_size: Sequence[int] = (800, 128), patch_size: int = 16,
                 in_channels: int = 1, embed_dims: Optional[int] = None,
                 depth: Optional[int] = None, num_heads: Optional[int] = None,
                 mlp_ratio: float = 4.0, qkv_bias: bool = True, drop_rate: float = 0.0,
                 attn_drop_rate: float = 0.0, drop_path_rate: float = 0.0,
                 init_values: float = 0.0, norm_eps: float = 1e-6, with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(arch, str):
            if arch not in SPEC_ARCH_SETTINGS:
                raise KeyError(f'Unknown arch {arch!r}; choose from '
                               f'{sorted(SPEC_ARCH_SETTINGS)} or pass a dict.')
            arch = SPEC_ARCH_SETTINGS[arch]
        self.embed_dims = int(embed_dims or arch['embed_dims'])
        self.depth = int(depth or arch['depth'])
        self.num_heads = int(num_heads or arch['num_heads'])
        self.patch_size = int(patch_size)
        self.in_channels = int(in_channels)
        self.grid_size: Tuple[int, int] = (int(input_size[0]) // patch_size,
                                           int(input_size[1]) // patch_size)
        if min(self.grid_size) < 1:
            raise ValueError(f'input_size {tuple(input_size)} is smaller than one '
                             f'{patch_size} x {patch_size} patch.')
        self.num_patches = self.grid_size[0] * self.grid_size[1]
        self.with_cp = with_cp
        self.patch_embed = nn.Conv2d(in_channels, self.embed_dims, patch_size, patch_size)
        self.register_buffer('pos_embed',
                             sincos_2d_position_table(self.grid_size, self.embed_dims),
                             persistent=False)
        dpr = torch.linspace(0, drop_path_rate, self.depth).tolist()
        self.blocks = nn.ModuleList([
            Block(self.embed_dims, self.num_heads, mlp_ratio, qkv_bias, drop_rate,
                  attn_drop_rate, dpr[i], init_values, norm_eps) for i in range(self.depth)])
        self.norm = nn.LayerNorm(self.embed_dims, eps=norm_eps)
        xavier_init_linear_(self)

    def token_grid(self, audio: Tensor) -> Tuple[int, int]:
        """(Tg, Fg) patch grid of a (B, L, F) or (B, 1, L, F) input."""
        return audio.shape[-2] // self.patch_size, audio.shape[-1] // self.patch_size

    def position_table(self, grid: Sequence[int], like: Tensor) -> Tensor:
        """(1, Tg*Fg, D) sin-cos table in ``like``'s dtype/device."""
        table = self.pos_embed
        if tuple(grid) != self.grid_size:
            table = sincos_2d_position_table(grid, self.embed_dims).to(like.device)
        return table.to(like.dtype)

    def tokenize(self, audio: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """Patch embedding + positions, visible tokens only.

        Args:
            audio: (B, L, F) or (B, 1, L, F) spectrogram.
            mask: (B, L/p, F/p) or (B, N) bool, True = masked; None keeps all.

        Returns:
            (B, N_visible, D) in ascending raster order.
        """
        if audio.dim() == 3:
            audio = audio.unsqueeze(1)
        if audio.dim() != 4 or audio.shape[1] != self.in_channels:
            raise ValueError(f'SpectrogramViT expects (B, L, F) or (B, {self.in_channels}, '
                             f'L, F) input, got shape {tuple(audio.shape)}.')
        grid = self.token_grid(audio)
        if min(grid) < 1:
            raise ValueError(f'spectrogram {tuple(audio.shape[-2:])} is smaller than one '
                             f'{self.patch_size} x {self.patch_size} patch.')
        x = self.patch_embed(audio).flatten(2).transpose(1, 2)  # (B, Tg*Fg, D)
        x = x + self.position_table(grid, x)
        if mask is not None:
            if mask[0].numel() != x.shape[1]:
                raise ValueError(f'audio mask has {mask[0].numel()} positions per sample but '
                                 f'the spectrogram {tuple(audio.shape[-2:])} gives '
                                 f'{grid[0]} x {grid[1]} = {x.shape[1]} patches.')
            x = gather_tokens(x, split_visible_masked(mask)[0])
        return x

    def forward_blocks(self, x: Tensor, blocks: Optional[Sequence[nn.Module]] = None,
                       attn_mask: Optional[Tensor] = None) -> Tensor:
        """Runs ``blocks`` (default all) on (B, N, D) tokens, no final norm."""
        for blk in (self.blocks if blocks is None else blocks):
            if self.with_cp and self.training and x.requires_grad:
                x = cp.checkpoint(blk, x, attn_mask, use_reentrant=False)
            else:
                x = blk(x, attn_mask)
        return x

    def forward(self, audio: Tensor, mask: Optional[Tensor] = None) -> Tensor:
        """(B, L, F) spectrogram (+ mask) -> (B, N_visible, D) after the final norm."""
        return self.norm(self.forward_blocks(self.tokenize(audio, mask)))


__all__ = ['SpectrogramViT', 'SPEC_ARCH_SETTINGS', 'sincos_2d_position_table', 'sincos_1d']
