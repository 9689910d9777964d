"""AV-MaskEnhancer pretraining model: masked video (+ audio) -> pixel reconstruction."""
from __future__ import annotations

import copy
from typing import Dict, List, Optional, Tuple, Union

import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.logging import print_log
from mmengine.model import BaseModel
from torch import Tensor, nn

from ..layers import sinusoid_position_table
from ..utils.masking import gather_tokens, split_visible_masked
from ..utils.audio import encode_valid_audio, keep_in_graph
from ..utils.views import flatten_views
from ..utils.build import ConfigType, build_data_preprocessor, build_optional, pixel_head_cfg


@MODELS.register_module()
class AVMaskEnhancer(BaseModel):
    """Masked audio-visual autoencoder of AV-MaskEnhancer (VideoMAE when video-only).

    Flow: ``backbone`` encodes the visible tubelets -> ``audio_backbone``
    encodes the clip's audio -> ``fusion.forward_visible`` (audio into the
    visible tokens, projection to decoder width) -> + decoder positions, mask
    tokens (+ positions) appended -> ``fusion.forward_decoder`` -> ``decoder``
    predicts the masked tubelets -> ``head`` computes target and loss.

    Args:
        backbone: visual encoder config (``MaskedVideoViT``).
        decoder: decoder config (``VideoMAEDecoder``); ``patch_size``,
            ``tubelet_size`` and ``in_channels`` default to the backbone's.
        head: reconstruction head config (``PixelReconstructionHead``);
            geometry defaults to the backbone's and ``mean``/``std`` to the
            data preprocessor config's.
        audio_backbone: audio encoder config (``TalkNetAudioEncoder``) or
            None for video only.
        fusion: fusion config; ``video_dim``, ``decoder_dim`` and ``audio_dim``
            default to the encoders' and decoder's widths.
        data_preprocessor: data preprocessor config (``AVDataPreprocessor``).
        pretrained: official VideoMAE pretraining checkpoint (or a file from
            ``tools/convert/videomae_to_mmav.py``) loaded in :meth:`init_weights`;
            missing / unexpected keys are logged.
        predict_video: in 'predict' mode also return the full reconstructed
            clip (``rec_video``) and the mask, e.g. for pictures.
        init_cfg: mmengine init config.
    """

    def __init__(self, backbone: ConfigType, decoder: ConfigType,
                 head: ConfigType = dict(type='PixelReconstructionHead'),
                 audio_backbone: Optional[ConfigType] = None,
                 fusion: ConfigType = dict(type='NoFusion'),
                 data_preprocessor: Optional[ConfigType] = None,
                 pretrained: Optional[str] = None, predict_video: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        data_preprocessor, preproc_cfg = build_data_preprocessor(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = build_optional(backbone)
        self.audio_backbone = build_optional(audio_backbone)
        video_dim = self.backbone.embed_dims
        geometry = dict(patch_size=self.backbone.patch_size,
                        tubelet_size=self.backbone.tubelet_size,
                        in_channels=self.backbone.in_channels)

        if isinstance(decoder, dict):
            decoder = {**geometry, **decoder}
        self.decoder = build_optional(decoder)
        decoder_dim = self.decoder.embed_dims

        self.head = build_optional(pixel_head_cfg(head, geometry, preproc_cfg))

        if isinstance(fusion, dict):
            fusion = copy.deepcopy(fusion)
            audio_dim = None
            if self.audio_backbone is not None:
                audio_dim = (getattr(self.audio_backbone, 'out_dim', None)
                             or getattr(self.audio_backbone, 'embed_dims', None))
            fusion.setdefault('video_dim', video_dim)
            fusion.setdefault('decoder_dim', decoder_dim)
            fusion.setdefault('audio_dim', audio_dim or video_dim)
        self.fusion = build_optional(fusion)
        uses_audio = bool(getattr(self.fusion, 'uses_audio', False))
        if uses_audio and self.audio_backbone is None:
            raise ValueError(f'{type(self.fusion).__name__} fuses audio but no '
                             'audio_backbone is configured.')
        if self.audio_backbone is not None and not uses_audio:
            print_log(f'audio_backbone is set but {type(self.fusion).__name__} ignores '
                      'audio; it will not run.', 'current', level=30)

        self.mask_token = nn.Parameter(torch.zeros(1, 1, decoder_dim))
        # VideoMAE: truncated normal std 0.02, cut at +-std.
        nn.init.trunc_normal_(self.mask_token, std=0.02, a=-0.02, b=0.02)
        self.register_buffer('decoder_pos_embed',
                             sinusoid_position_table(self.backbone.num_patches, decoder_dim),
                             persistent=False)
        self.pretrained = pretrained
        self.predict_video = predict_video

    @property
    def uses_audio(self) -> bool:
        return self.audio_backbone is not None and bool(getattr(self.fusion, 'uses_audio',
                                                                 False))

    def init_weights(self) -> None:
        """Module inits (VideoMAE's, done at construction), then ``pretrained``."""
        super().init_weights()
        if self.pretrained:
            from ..checkpoint_layouts import load_pretrained
            load_pretrained(self, self.pretrained)

    # ------------------------------------------------------------------ input
    @staticmethod
    def _flatten_views(inputs: Dict[str, Tensor]) -> Tuple[Tensor, Tensor, Optional[Tensor],
                                                           Tensor, int]:
        """Merges the view axis into the batch (rules: :mod:`..utils.views`).

        Returns:
            imgs (B, C, T, H, W), mask (B, T', H', W') bool, audio (B, L, F) or
            None, audio_valid (B,) bool, number of views V (B = N * V).
        """
        if not isinstance(inputs, dict) or inputs.get('mask') is None:
            raise KeyError("inputs has no 'mask': add a tube mask generator "
                           '(TubeMaskGenerator) to the pipeline.')
        if inputs.get('imgs') is None:
            raise KeyError("inputs has no 'imgs': AVMaskEnhancer reconstructs video.")
        flat = flatten_views(inputs)
        return flat.imgs, flat.masks['mask'], flat.audio, flat.audio_valid, flat.num_views

    def _decoder_pos(self, num_tokens: int, like: Tensor) -> Tensor:
        table = self.decoder_pos_embed
        if table.shape[1] != num_tokens:
            table = sinusoid_position_table(num_tokens, table.shape[-1]).to(like.device)
        return table.to(like.dtype)

    # ---------------------------------------------------------------- compute
    def reconstruct(self, imgs: Tensor, mask: Tensor, audio: Optional[Tensor] = None,
                    audio_valid: Optional[Tensor] = None) -> Tensor:
        """Predicts the masked tubelets.

        Args:
            imgs: (B, C, T, H, W) normalised clip.
            mask: (B, T', H', W') bool, True = masked, same count per sample.
            audio: (B, L, F) audio features or None.
            audio_valid: (B,) bool or None.

        Returns:
            (B, N_masked, C * tubelet * p * p) head-space prediction, masked
            tokens in ascending raster order.
        """
        num_slices, hg, wg = mask.shape[-3:]
        visible_idx, masked_idx = split_visible_masked(mask)
        x = self.backbone(imgs, mask)                                   # (B, Nv, Dv)
        audio_tokens = None
        if self.uses_audio:                                             # (B, Ta, Da)
            audio_tokens = encode_valid_audio(self.audio_backbone, audio, audio_valid)
        hw = hg * wg
        x = self.fusion.forward_visible(x, visible_idx // hw, audio_tokens, audio_valid,
                                        num_slices)                     # (B, Nv, Dd)
        pos = self._decoder_pos(num_slices * hw, x)
        tokens = torch.cat([x + gather_tokens(pos, visible_idx),
                            self.mask_token.to(x.dtype) + gather_tokens(pos, masked_idx)], 1)
        token_time = torch.cat([visible_idx, masked_idx], 1) // hw
        tokens = self.fusion.forward_decoder(tokens, token_time, audio_tokens, audio_valid,
                                             num_slices)
        pred = self.decoder(tokens, masked_idx.shape[1])
        if self.training and self.uses_audio and audio_tokens is None:
            pred = keep_in_graph(pred, self.audio_backbone, self.fusion)
        return pred

    def forward(self, inputs: Dict[str, Tensor],
                data_samples: Optional[List[ActionDataSample]] = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], List[ActionDataSample],
                                               Tensor]:
        """Runs the model.

        Args:
            inputs: ``dict(imgs=(N, V, C, T, H, W) or (N, C, T, H, W),
                mask=(N, T', H', W') bool, audio=(N, V, L, F) optional,
                audio_valid=(N,) optional)`` from the data preprocessor.
            data_samples: per-sample data samples (may be None).
            mode: 'loss' -> ``dict(loss_rec)``; 'predict' -> data samples with
                ``rec_mse`` (masked MSE in target space), ``rec_pixel_mse``
                and ``rec_psnr`` (masked tubelets, [0, 1] pixels),
                ``rec_regions`` (2, 3) object / background error sums when the
                data samples carry ``object_mask``, plus
                ``rec_video`` (V, C, T, H, W) and ``rec_mask`` (V, T', H', W')
                when ``predict_video``; 'tensor' -> (N*V, N_masked, P).
        """
        imgs, mask, audio, valid, num_views = self._flatten_views(inputs)
        pred = self.reconstruct(imgs, mask, audio, valid)
        if mode == 'tensor':
            return pred
        if mode == 'loss':
            return self.head.loss(pred, imgs, mask)
        if mode == 'predict':
            return self._predict(pred, imgs, mask, num_views, data_samples)
        raise RuntimeError(f'Invalid mode {mode!r}; use loss, predict or tensor.')

    @torch.no_grad()
    def _predict(self, pred: Tensor, imgs: Tensor, mask: Tensor, num_views: int,
                 data_samples: Optional[List[ActionDataSample]]) -> List[ActionDataSample]:
        head = self.head
        num = imgs.shape[0] // num_views
        mse = head.per_sample_mse(pred, head.get_target(imgs, mask)).view(num, num_views)
        pixels = head.to_pixels(pred, imgs, mask).clamp_(0, 1)
        pix_mse = head.per_sample_mse(pixels, head.ground_truth_pixels(imgs, mask))
        pix_mse = pix_mse.view(num, num_views)
        psnr = -10.0 * torch.log10(pix_mse.clamp_min(1e-10))  # peak value 1
        video = head.reconstruct_video(pred, imgs, mask) if self.predict_video else None
        if data_samples is None:
            data_samples = [ActionDataSample() for _ in range(num)]
        regions = self._region_sums(pred, imgs, mask, num_views, data_samples)
        for i, sample in enumerate(data_samples):
            if regions is not None:
                sample.rec_regions = regions[i]
            sample.rec_mse = mse[i].mean()
            sample.rec_pixel_mse = pix_mse[i].mean()
            sample.rec_psnr = psnr[i].mean()
            if video is not None:
                views = slice(i * num_views, (i + 1) * num_views)
                sample.rec_video = video[views].cpu()
                sample.rec_mask = mask[views].cpu()
        return data_samples

    def _region_sums(self, pred: Tensor, imgs: Tensor, mask: Tensor, num_views: int,
                     data_samples: List[ActionDataSample]) -> Optional[Tensor]:
        """(N, 2, 3) object / background error sums (see ``head.region_sums``),
        summed over views, when every sample carries an ``object_mask``
        (V * T, H, W) from ``LoadObjectMask``; else None."""
        masks = [sample.get('object_mask') for sample in data_samples]
        if not masks or any(m is None for m in masks):
            return None
        frames = torch.stack(masks).to(imgs.device)
        frames = frames.reshape(imgs.shape[0], imgs.shape[2], *frames.shape[-2:])
        sums = self.head.region_sums(pred, imgs, mask, frames)          # (N * V, 2, 3)
        return sums.view(len(data_samples), num_views, 2, 3).sum(1).cpu()


__all__ = ['AVMaskEnhancer']
