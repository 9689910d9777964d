"""Audiovisual MAE (Georgescu et al., ICCV 2023): encoders -> decoders -> heads -> loss."""
from __future__ import annotations

import copy
from typing import Dict, List, Optional, Union

import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.model import BaseModel
from torch import Tensor, nn

from ..necks.av_mae_decoder import OBJECTIVES
from ..utils.build import ConfigType, build_data_preprocessor, build_optional, pixel_head_cfg
from ..utils.views import merge_views



def video_geometry(vit: nn.Module) -> dict:
    """The video ViT's tubelet geometry, which decoders and pixel heads share."""
    return dict(patch_size=vit.patch_size, tubelet_size=vit.tubelet_size,
                in_channels=vit.in_channels)


def decoder_cfg(neck: ConfigType, vit_v: nn.Module, vit_a: nn.Module, **defaults) -> ConfigType:
    """An ``AVMAEDecoder`` config completed with the encoders' widths and geometry
    (and ``defaults``); explicit keys win, modules pass through."""
    if not isinstance(neck, dict):
        return neck
    neck = copy.deepcopy(neck)
    for key, value in dict(video_dim=vit_v.embed_dims, audio_dim=vit_a.embed_dims,
                           video_geometry=video_geometry(vit_v),
                           audio_patch_size=vit_a.patch_size, **defaults).items():
        neck.setdefault(key, value)
    return neck


@MODELS.register_module()
class AVMAE(BaseModel):
    """Masked audio-visual autoencoder that reconstructs video AND audio.

    ``backbone`` (:class:`AVMAEEncoder`) encodes the visible video tubelets
    and spectrogram patches -> ``neck`` (:class:`AVMAEDecoder`) decodes the
    masked tokens of each target modality -> ``video_head``
    (``PixelReconstructionHead``) and ``audio_head``
    (``SpectrogramReconstructionHead``) give targets and MSE losses.

    Objectives (``objective``): ``'joint'`` reconstruction of both
    modalities with equal weights (``loss_video + loss_audio``), or modality
    inpainting ``'inpaint_video'`` (video from encoded audio),
    ``'inpaint_audio'`` or ``'inpaint_both'`` (equal weights).

    Refused combinations (the paper, Sec. 3.3 and 3.4):

    - encoder 'separate' with decoder 'separate': two uncoupled MAEs.
    - inpainting with an encoder without joint layers ('separate', 'shared',
      'mid' with 0 joint layers): the encoded tokens of one modality would
      carry nothing about the other.
    - inpainting with decoder 'early': the mask tokens would see the target
      modality's own encoded tokens.

    Losses that involve audio (the audio target, or audio as the inpainting
    source) are averaged over clips whose ``audio_valid`` is True only.

    Args:
        backbone: ``AVMAEEncoder`` config.
        neck: ``AVMAEDecoder`` config; widths and video geometry default to
            the encoder's.
        video_head: video target/loss config; geometry defaults to the video
            ViT's and ``mean``/``std`` to the data preprocessor's.
        audio_head: audio target/loss config; patch size defaults to the
            spectrogram ViT's.
        objective: one of ``OBJECTIVES``.
        data_preprocessor: ``AVDataPreprocessor`` config.
        init_cfg: mmengine init config.
    """

    def __init__(self, backbone: ConfigType, neck: ConfigType,
                 video_head: ConfigType = dict(type='PixelReconstructionHead', norm_pix=True),
                 audio_head: ConfigType = dict(type='SpectrogramReconstructionHead'),
                 objective: str = 'joint', data_preprocessor: Optional[ConfigType] = None,
                 init_cfg: Optional[dict] = None) -> None:
        data_preprocessor, preproc_cfg = build_data_preprocessor(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if objective not in OBJECTIVES:
            raise ValueError(f'objective must be one of {OBJECTIVES}, got {objective!r}')
        self.objective = objective
        self.backbone = build_optional(backbone)
        vit_v, vit_a = self.backbone.video, self.backbone.audio
        geometry = video_geometry(vit_v)
        neck = decoder_cfg(neck, vit_v, vit_a, objective=objective)
        self.neck = build_optional(neck)
        enc, dec = self.backbone.fusion, self.neck.fusion
        if self.neck.objective != objective:
            raise ValueError(f'neck objective {self.neck.objective!r} differs from the '
                             f'model objective {objective!r}; set it once, on the model.')
        if enc == 'separate' and dec == 'separate':
            raise ValueError(
                "encoder 'separate' with decoder 'separate' is two uncoupled masked "
                'autoencoders: no layer ever sees both modalities (Audiovisual MAE, '
                "Sec. 3.3). Use a 'shared' or 'early' decoder, or a fusing encoder.")
        if objective != 'joint':
            if self.backbone.num_joint_layers == 0:
                raise ValueError(
                    f"objective {objective!r} reconstructs one modality from the other's "
                    f"encoded tokens, so it needs a cross-modal encoder ('early' or 'mid' "
                    f'with num_joint_layers >= 1); encoder {enc!r} encodes each modality '
                    'on its own and its tokens carry nothing about the other modality '
                    '(Audiovisual MAE, Sec. 3.4).')
            if dec == 'early':
                raise ValueError(
                    f"objective {objective!r} cannot use decoder 'early': its joint sequence "
                    "would let the mask tokens attend to the target modality's own encoded "
                    "tokens. Use decoder 'shared' or 'separate'.")
        video_head = pixel_head_cfg(video_head, geometry, preproc_cfg)
        if isinstance(audio_head, dict):
            audio_head = {**dict(patch_size=vit_a.patch_size), **audio_head}
        self.video_head = build_optional(video_head)
        self.audio_head = build_optional(audio_head)

    @property
    def targets(self) -> tuple:
        """Modalities whose reconstruction is trained."""
        return {'joint': ('video', 'audio'), 'inpaint_video': ('video', ),
                'inpaint_audio': ('audio', ), 'inpaint_both': ('video', 'audio')}[
                    self.objective]

    # ------------------------------------------------------------------ input
    @staticmethod
    def _flatten(inputs: Dict[str, Tensor]) -> Dict[str, Optional[Tensor]]:
        """Merges views: imgs (B, C, T, H, W), mask (B, T', H', W'), audio (B, L, F),
        audio_mask (B, Tg, Fg), audio_valid (B,) (B = N * V)."""
        imgs, audio = inputs.get('imgs'), inputs.get('audio')
        if imgs is None and audio is None:
            raise KeyError('AVMAE needs inputs with imgs and/or audio.')
        ref = imgs if imgs is not None else audio
        num_views = ref.shape[1] if (imgs is not None and imgs.dim() == 6) or (
            imgs is None and audio.dim() == 4) else 1
        out: Dict[str, Optional[Tensor]] = dict(num_views=num_views)
        if imgs is not None:
            if inputs.get('mask') is None:
                raise KeyError("inputs have imgs but no 'mask': add a video mask generator "
                               "(RandomMaskGenerator(source_key='imgs') or TubeMaskGenerator).")
            out['imgs'] = imgs.flatten(0, 1) if imgs.dim() == 6 else imgs
            out['mask'] = merge_views(inputs['mask'].bool(), num_views, sample_dims=3)
        if audio is not None:
            if inputs.get('audio_mask') is None:
                raise KeyError("inputs have audio but no 'audio_mask': add "
                               'AudioMaskGenerator after the audio feature transform.')
            out['audio'] = merge_views(audio, num_views, sample_dims=2)
            out['audio_mask'] = merge_views(inputs['audio_mask'].bool(), num_views,
                                            sample_dims=2)
            valid = inputs.get('audio_valid')
            if valid is None:
                valid = torch.ones(out['audio'].shape[0], dtype=torch.bool,
                                   device=audio.device)
            else:
                valid = valid.bool().reshape(-1)
                if valid.numel() != out['audio'].shape[0]:
                    valid = valid.repeat_interleave(num_views, 0)
            out['audio_valid'] = valid
        return out

    # ---------------------------------------------------------------- compute
    def reconstruct(self, imgs: Optional[Tensor], mask: Optional[Tensor],
                    audio: Optional[Tensor], audio_mask: Optional[Tensor],
                    audio_valid: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Predictions of the masked tokens.

        Args:
            imgs: (B, C, T, H, W) or None; mask: (B, T', H', W') bool.
            audio: (B, L, F) or None; audio_mask: (B, Tg, Fg) bool.
            audio_valid: (B,) bool or None.

        Returns:
            dict with ``video`` (B, Nv_mask, C*t*p*p) and/or ``audio``
            (B, Na_mask, p*p), masked tokens in ascending raster order.
        """
        v, a = self.backbone(imgs, mask, audio, audio_mask, audio_valid)
        return self.neck(v, mask, a, audio_mask, audio_valid)

    @staticmethod
    def _weighted_mse(head, pred: Tensor, x: Tensor, mask: Tensor,
                      weight: Optional[Tensor]) -> Tensor:
        """Mean over the weighted samples of each sample's masked MSE (float32)."""
        per_sample = head.per_sample_mse(pred, head.get_target(x, mask))
        if weight is None:
            return per_sample.mean() * head.loss_weight
        w = weight.to(per_sample.dtype)
        # no clip with audio: zero loss that keeps the graph (and DDP) intact
        return (per_sample * w).sum() / w.sum().clamp_min(1.0) * head.loss_weight

    def loss(self, preds: Dict[str, Tensor], flat: Dict[str, Optional[Tensor]]
             ) -> Dict[str, Tensor]:
        """``loss_video`` and/or ``loss_audio`` of the objective's targets."""
        valid = flat.get('audio_valid')
        losses = {}
        if 'video' in preds:
            # video inpainted from audio is meaningless for clips without audio
            weight = valid if self.objective != 'joint' else None
            losses['loss_video'] = self._weighted_mse(self.video_head, preds['video'],
                                                      flat['imgs'], flat['mask'], weight)
        if 'audio' in preds:
            losses['loss_audio'] = self._weighted_mse(self.audio_head, preds['audio'],
                                                      flat['audio'], flat['audio_mask'], valid)
        return losses

    def forward(self, inputs: Dict[str, Tensor],
                data_samples: Optional[List[ActionDataSample]] = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], List[ActionDataSample]]:
        """Runs the model.

        Args:
            inputs: ``dict(imgs=(N, V, C, T, H, W), mask=(N, T', H', W'),
                audio=(N, V, L, F), audio_mask=(N, Tg, Fg), audio_valid=(N,))``
                from ``AVDataPreprocessor`` (video or audio may be absent in
                'joint' mode).
            data_samples: data samples (may be None).
            mode: 'loss' -> ``dict(loss_video, loss_audio)`` (the objective's
                targets); 'predict' -> data samples with ``rec_mse``,
                ``rec_pixel_mse``, ``rec_psnr`` (video, as ``AVMaskEnhancer``)
                and ``rec_audio_mse`` (masked spectrogram patches, target
                space) for the predicted modalities; 'tensor' -> the
                prediction dict of :meth:`reconstruct` (B = N * V).
        """
        flat = self._flatten(inputs)
        preds = self.reconstruct(flat.get('imgs'), flat.get('mask'), flat.get('audio'),
                                 flat.get('audio_mask'), flat.get('audio_valid'))
        if mode == 'tensor':
            return preds
        if mode == 'loss':
            return self.loss(preds, flat)
        if mode == 'predict':
            return self._predict(preds, flat, data_samples)
        raise RuntimeError(f'Invalid mode {mode!r}; use loss, predict or tensor.')

    @torch.no_grad()
    def _predict(self, preds: Dict[str, Tensor], flat: Dict[str, Optional[Tensor]],
                 data_samples: Optional[List[ActionDataSample]]) -> List[ActionDataSample]:
        num_views = flat['num_views']
        ref = flat['imgs'] if flat.get('imgs') is not None else flat['audio']
        num = ref.shape[0] // num_views
        fields: Dict[str, Tensor] = {}
        if 'video' in preds:
            head, pred, imgs, mask = self.video_head, preds['video'], flat['imgs'], flat['mask']
            fields['rec_mse'] = head.per_sample_mse(pred, head.get_target(imgs, mask))
            pixels = head.to_pixels(pred, imgs, mask).clamp_(0, 1)
            pix = head.per_sample_mse(pixels, head.ground_truth_pixels(imgs, mask))
            fields['rec_pixel_mse'] = pix
            fields['rec_psnr'] = -10.0 * torch.log10(pix.clamp_min(1e-10))
        if 'audio' in preds:
            head = self.audio_head
            fields['rec_audio_mse'] = head.per_sample_mse(
                preds['audio'], head.get_target(flat['audio'], flat['audio_mask']))
        if data_samples is None:
            data_samples = [ActionDataSample() for _ in range(num)]
        for key, value in fields.items():
            value = value.view(num, num_views).mean(1)
            for i, sample in enumerate(data_samples):
                setattr(sample, key, value[i])
        return data_samples


__all__ = ['AVMAE']
