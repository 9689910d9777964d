"""MBT-style two-stream audio-visual ViT for fine-tuning (Audiovisual MAE, Sec. 4.1)."""
from __future__ import annotations

from typing import Optional, Tuple

import torch
from mmaction.registry import MODELS
from mmengine.model import BaseModule
from torch import Tensor

from ..checkpoint_layouts import TWO_STREAM_KEY_RULES
from ..layers import BottleneckExchange
from ..utils.build import ConfigType, build_optional
from .av_mae_encoder import video_tokens


@MODELS.register_module()
class TwoStreamViT(BaseModule):
    """A video ViT and a spectrogram ViT that meet only through bottleneck tokens.

    The MBT model (Nagrani et al., NeurIPS 2021) that Audiovisual MAE fine-tunes
    for audio-visual classification (Georgescu et al., Sec. 4.1): layers
    ``[0, fusion_layer)`` of each stream run on their own modality; in layers
    ``[fusion_layer, depth)`` each stream attends to its own tokens plus
    ``num_bottlenecks`` shared tokens (:class:`BottleneckExchange`), the only
    path between the modalities. ``fusion_layer = depth`` or
    ``num_bottlenecks = 0`` is late fusion of two independent ViTs.

    Read-out: each stream's final norm, mean over its tokens (bottlenecks
    excluded), then the mean of the two vectors. With one linear classifier on
    top this equals MBT's "same linear layer on each stream, logits averaged"
    (a linear map commutes with the mean) and keeps ``AVRecognizer``'s one
    head. A clip without audio (``audio_valid`` False) reads out the video
    vector alone, and its audio never enters the bottlenecks.

    Weights: ``pretrained_key_rules`` maps the files of
    ``tools/convert/avmae_to_recognizer.py`` (and ``AVMAE`` checkpoints, untied
    on load) onto the streams: ``backbone.*`` -> ``video.*``,
    ``audio_backbone.*`` -> ``audio.*``. The bottleneck tokens are new.

    Args:
        video: ``MaskedVideoViT`` config (token outputs: ``use_mean_pooling``
            is forced to False).
        audio: ``SpectrogramViT`` config of the same width and depth.
        fusion_layer: first layer that shares the bottlenecks (MBT: 8 of 12).
        num_bottlenecks: bottleneck tokens (MBT: 4).
        init_cfg: mmengine init config.
    """

    # AVRecognizer seams: it passes the audio in, renames checkpoints with these
    # rules, and does not warn about the parameters listed as new.
    takes_audio = True
    pretrained_key_rules = TWO_STREAM_KEY_RULES
    new_param_prefixes = ('backbone.bottleneck.', )

    def __init__(self, video: ConfigType, audio: ConfigType, fusion_layer: int = 8,
                 num_bottlenecks: int = 4, init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(video, dict):
            video = dict(video, use_mean_pooling=False)
        self.video = build_optional(video)
        self.audio = build_optional(audio)
        mismatch = [(name, getattr(self.video, name), getattr(self.audio, name))
                    for name in ('embed_dims', 'depth')
                    if getattr(self.video, name) != getattr(self.audio, name)]
        if mismatch:
            raise ValueError('TwoStreamViT pairs the layers of the two streams, so the video '
                             f'and audio ViTs need equal width and depth; (name, video, '
                             f'audio) differ: {mismatch}')
        if getattr(self.video, 'fc_norm', None) is not None:
            raise ValueError('TwoStreamViT needs the video ViT with token outputs '
                             '(use_mean_pooling=False).')
        depth = self.video.depth
        if not 0 <= fusion_layer <= depth:
            raise ValueError(f'fusion_layer must be in [0, {depth}], got {fusion_layer}')
        if num_bottlenecks < 0:
            raise ValueError(f'num_bottlenecks must be >= 0, got {num_bottlenecks}')
        self.fusion_layer = int(fusion_layer)
        self.embed_dims = self.video.embed_dims
        self.bottleneck = BottleneckExchange(self.embed_dims, num_tokens=num_bottlenecks)

    def stream_features(self, imgs: Tensor, audio: Tensor,
                        audio_valid: Optional[Tensor] = None) -> Tuple[Tensor, Tensor]:
        """Per-stream pooled features.

        Args:
            imgs: (B, C, T, H, W) normalised clip.
            audio: (B, L, F) spectrogram.
            audio_valid: (B,) bool, False where the clip has no real audio.

        Returns:
            ``(video (B, D), audio (B, D))``: final norm, mean over tokens.
        """
        f = self.fusion_layer
        v = video_tokens(self.video, imgs, None)
        a = self.audio.tokenize(audio)
        for blk in self.video.blocks[:f]:
            v = blk(v)
        a = self.audio.forward_blocks(a, self.audio.blocks[:f])
        v, a = self.bottleneck(v, a, self.video.blocks[f:], self.audio.blocks[f:],
                               audio_valid)
        return self.video.norm(v).mean(dim=1), self.audio.norm(a).mean(dim=1)

    def forward(self, imgs: Tensor, audio: Optional[Tensor],
                audio_valid: Optional[Tensor] = None) -> Tensor:
        """(B, C, T, H, W) clip + (B, L, F) spectrogram -> (B, D) fused feature.

        Args:
            imgs: normalised clip.
            audio: spectrogram; None is refused (use a video-only model).
            audio_valid: (B,) bool; clips marked False read out video only.

        Returns:
            (B, D): the mean of the two streams' vectors (video alone where
            the audio is invalid).
        """
        if imgs is None or audio is None:
            raise ValueError('TwoStreamViT needs both the video and the audio input; got '
                             f"{'no video' if imgs is None else 'no audio'} (for one "
                             'modality fine-tune with AVRecognizer(backbone=None) or '
                             '(audio_backbone=None)).')
        v, a = self.stream_features(imgs, audio, audio_valid)
        fused = (v + a) / 2
        if audio_valid is None:
            return fused
        return torch.where(audio_valid.bool()[:, None], fused, v)


__all__ = ['TwoStreamViT']
