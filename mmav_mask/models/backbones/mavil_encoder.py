"""MAViL encoder: a ViT per modality, then the audio-video fusion encoder."""
from __future__ import annotations

import copy
from typing import NamedTuple, Optional, Tuple

from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor

from ..utils.build import ConfigType, build_optional


class MAViLFeatures(NamedTuple):
    """Encoder outputs of one batch (visible tokens only when masked)."""
    video_um: Tensor   # (B, Nv, D) uni-modal video encoder output v_um
    audio_um: Tensor   # (B, Na, D) uni-modal audio encoder output a_um
    video_mm: Tensor   # (B, Nv, D) fusion encoder output v_mm
    audio_mm: Tensor   # (B, Na, D) fusion encoder output a_mm


@MODELS.register_module()
class MAViLEncoder(BaseModule):
    """f_v, f_a and g_av of MAViL (Huang et al., Sec. 3.1).

    The video ViT (``MaskedVideoViT``) encodes the visible tubelets and the
    spectrogram ViT (``SpectrogramViT``) the visible patches, each with its
    own patch embedding, fixed positions and final norm (v_um, a_um); the
    fusion encoder (``MAViLFusionEncoder``, vanilla or MBT) then encodes
    both jointly (v_mm, a_mm). The contrastive losses use the uni-modal
    outputs, the decoders the fused ones.

    Args:
        video: ``MaskedVideoViT`` config (``use_mean_pooling=False``).
        audio: ``SpectrogramViT`` config, same width as the video ViT.
        fusion: ``MAViLFusionEncoder`` config; ``dim`` and ``num_heads``
            default to the video ViT's.
        init_cfg: mmengine init config.
    """

    def __init__(self, video: ConfigType, audio: ConfigType,
                 fusion: ConfigType = dict(type='MAViLFusionEncoder', mode='vanilla',
                                           num_layers=2),
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.video = build_optional(video)
        self.audio = build_optional(audio)
        if self.video is None or self.audio is None:
            raise ValueError('MAViLEncoder needs both a video and an audio ViT.')
        if getattr(self.video, 'fc_norm', None) is not None:
            raise ValueError('MAViLEncoder needs token outputs: build the video ViT with '
                             'use_mean_pooling=False.')
        if self.video.embed_dims != self.audio.embed_dims:
            raise ValueError('the fusion encoder attends over both token sets, so the video '
                             f'and audio ViTs need one width; got video {self.video.embed_dims}'
                             f' and audio {self.audio.embed_dims}')
        if isinstance(fusion, dict):
            fusion = copy.deepcopy(fusion)
            fusion.setdefault('dim', self.video.embed_dims)
            fusion.setdefault('num_heads', self.video.num_heads)
        self.fusion = build_optional(fusion)

    @property
    def embed_dims(self) -> int:
        """Token width D of every output."""
        return self.video.embed_dims

    def forward_unimodal(self, imgs: Tensor, video_mask: Optional[Tensor], audio: Tensor,
                         audio_mask: Optional[Tensor]) -> Tuple[Tensor, Tensor]:
        """Uni-modal encoders only.

        Args:
            imgs: (B, C, T, H, W) normalised clip.
            video_mask: (B, T', H', W') bool, True = masked, or None (all tokens).
            audio: (B, L, F) spectrogram.
            audio_mask: (B, L/p, F/p) bool, or None.

        Returns:
            ``(v_um (B, Nv_vis, D), a_um (B, Na_vis, D))``, tokens in raster order.
        """
        return self.video(imgs, video_mask), self.audio(audio, audio_mask)

    def forward(self, imgs: Tensor, video_mask: Optional[Tensor], audio: Tensor,
                audio_mask: Optional[Tensor], audio_valid: Optional[Tensor] = None
                ) -> MAViLFeatures:
        """Uni-modal encoders, then the fusion encoder.

        Args:
            imgs, video_mask, audio, audio_mask: as in :meth:`forward_unimodal`.
            audio_valid: (B,) bool or None.

        Returns:
            :class:`MAViLFeatures` (v_um, a_um, v_mm, a_mm).
        """
        video_um, audio_um = self.forward_unimodal(imgs, video_mask, audio, audio_mask)
        video_mm, audio_mm = self.fusion(video_um, audio_um, audio_valid)
        return MAViLFeatures(video_um, audio_um, video_mm, audio_mm)


__all__ = ['MAViLEncoder', 'MAViLFeatures']
