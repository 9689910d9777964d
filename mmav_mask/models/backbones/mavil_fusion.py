"""MAViL's audio-video fusion encoder: L vanilla joint layers or L MBT bottleneck layers."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
import torch.utils.checkpoint as cp
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor, nn

from ..layers import Block, xavier_init_linear_
from ..layers.bottleneck_fusion import BottleneckExchange

FUSION_MODES = ('vanilla', 'mbt')


@MODELS.register_module()
class MAViLFusionEncoder(BaseModule):
    """The fusion encoder g_av on top of the uni-modal encoders (MAViL, Sec. 3.1).

    - ``'vanilla'``: L transformer blocks over the concatenation
      ``[video, audio]`` (joint attention); a learned modality embedding is
      added to each token set at the input, as in ``AVMAEEncoder``'s joint
      layers. Clips whose ``audio_valid`` is False hide their audio tokens
      from attention (key mask).
    - ``'mbt'``: L pairs of blocks, one per modality, that exchange
      information only through ``num_bottleneck_tokens`` bottleneck tokens
      (MBT, Nagrani et al. 2021; paper: 4), run by
      :class:`~mmav_mask.models.layers.bottleneck_fusion.BottleneckExchange`.
      With 0 bottleneck tokens the two streams are independent.

    Both end with a LayerNorm per modality (``video_norm``, ``audio_norm``):
    the fused outputs a_mm / v_mm are the decoders' inputs and the stage-2
    'fusion' targets.

    Args:
        dim: token width of both modalities.
        num_heads: attention heads.
        mode: one of ``FUSION_MODES``.
        num_layers: L (paper: 2, Sec. 4.2).
        num_bottleneck_tokens: bottleneck tokens for ``'mbt'`` (paper: 4).
        mlp_ratio, qkv_bias, drop_path_rate, norm_eps: as in ``MaskedVideoViT``.
        with_cp: activation checkpointing per block while training.
        init_cfg: mmengine init config.
    """

    def __init__(self, dim: int, num_heads: int, mode: str = 'vanilla', num_layers: int = 2,
                 num_bottleneck_tokens: int = 4, mlp_ratio: float = 4.0, qkv_bias: bool = True,
                 drop_path_rate: float = 0.0, norm_eps: float = 1e-6, with_cp: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if mode not in FUSION_MODES:
            raise ValueError(f'fusion mode must be one of {FUSION_MODES}, got {mode!r}')
        if num_layers < 1:
            raise ValueError(f'the fusion encoder needs at least one layer, got {num_layers}')
        if num_bottleneck_tokens < 0:
            raise ValueError(f'num_bottleneck_tokens must be >= 0, got {num_bottleneck_tokens}')
        self.mode = mode
        self.dim = dim
        self.num_layers = num_layers
        self.with_cp = with_cp
        dpr = torch.linspace(0, drop_path_rate, num_layers).tolist()

        def blocks() -> nn.ModuleList:
            return nn.ModuleList([Block(dim, num_heads, mlp_ratio, qkv_bias, drop_path=dpr[i],
                                        norm_eps=norm_eps) for i in range(num_layers)])

        if mode == 'vanilla':
            self.blocks = blocks()
            self.modality_embed = nn.Parameter(torch.zeros(2, dim))
        else:
            self.video_blocks, self.audio_blocks = blocks(), blocks()
            self.bottleneck = BottleneckExchange(dim, num_bottleneck_tokens)
        self.video_norm = nn.LayerNorm(dim, eps=norm_eps)
        self.audio_norm = nn.LayerNorm(dim, eps=norm_eps)
        xavier_init_linear_(self)
        if mode == 'vanilla':
            nn.init.trunc_normal_(self.modality_embed, std=0.02)

    def _block(self, blk: nn.Module):
        """``blk`` wrapped in activation checkpointing when asked for."""
        if not (self.with_cp and self.training):
            return blk
        return lambda x, *args: cp.checkpoint(blk, x, *args, use_reentrant=False)

    def forward(self, video: Tensor, audio: Tensor, audio_valid: Optional[Tensor] = None
                ) -> Tuple[Tensor, Tensor]:
        """Fuses the uni-modal outputs.

        Args:
            video: (B, Nv, D) uni-modal video tokens v_um.
            audio: (B, Na, D) uni-modal audio tokens a_um.
            audio_valid: (B,) bool or None; False where the clip has no audio.

        Returns:
            ``(v_mm (B, Nv, D), a_mm (B, Na, D))`` after the final norms.
        """
        if video.shape[-1] != self.dim or audio.shape[-1] != self.dim:
            raise ValueError(f'fusion encoder width is {self.dim}; got video '
                             f'{video.shape[-1]} and audio {audio.shape[-1]}')
        nv = video.shape[1]
        if self.mode == 'mbt':
            video, audio = self.bottleneck(
                video, audio, [self._block(b) for b in self.video_blocks],
                [self._block(b) for b in self.audio_blocks], audio_valid)
            return self.video_norm(video), self.audio_norm(audio)
        x = torch.cat([video + self.modality_embed[0].to(video.dtype),
                       audio + self.modality_embed[1].to(audio.dtype)], dim=1)
        key_mask = None
        if audio_valid is not None and not bool(audio_valid.all()):
            key_mask = torch.ones(x.shape[:2], dtype=torch.bool, device=x.device)
            key_mask[:, nv:] = audio_valid.bool()[:, None]
        for blk in self.blocks:
            x = self._block(blk)(x, key_mask)
        return self.video_norm(x[:, :nv]), self.audio_norm(x[:, nv:])


__all__ = ['MAViLFusionEncoder', 'FUSION_MODES']
