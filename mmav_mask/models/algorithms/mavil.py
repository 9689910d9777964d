"""MAViL (Huang et al.): masked audio-video reconstruction + contrastive learning, two stages."""
from __future__ import annotations

import copy
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmengine.model import BaseModel
from torch import Tensor, nn

from ..utils.build import ConfigType, build_data_preprocessor, build_optional, pixel_head_cfg
from ..utils.views import FlatViews, flatten_views
from .av_mae import AVMAE, decoder_cfg, video_geometry
from .mavil_teacher import load_mavil_teacher

TARGETS = ('raw', 'unimodal', 'fusion')


@MODELS.register_module()
class MAViL(BaseModel):
    """Masked Audio-Video Learner, stage 1 (raw targets) or stage 2 (teacher targets).

    ``backbone`` (:class:`~mmav_mask.models.backbones.MAViLEncoder`) encodes
    the visible tokens with a ViT per modality (v_um, a_um) and fuses them
    (v_mm, a_mm); ``neck`` (``AVMAEDecoder(fusion='separate')``: one decoder
    per modality, fixed sin-cos positions, a mask token per masked token)
    predicts the masked tokens from v_mm / a_mm. Losses (Eq. 4 and 6):

    - ``loss_video`` + ``loss_audio``: MSE on the masked tokens, against
      the raw pixels / spectrogram (``target='raw'``, stage 1, Eq. 1) or
      against a frozen teacher's features of the full, unmasked input
      (stage 2, Eq. 5): its uni-modal outputs (``'unimodal'``, Table 4
      "MAViL-Uni") or its fusion outputs (``'fusion'``, "MAViL-Fusion",
      the paper's choice). Raw reconstruction is off in stage 2, as in the
      paper (footnote 1).
    - ``loss_inter``: InfoNCE between the mean-pooled a_um and v_um
      (``inter_loss``: tau 0.1, weight alpha 0.1).
    - ``loss_intra``: 1/2 [InfoNCE(a_emb, a~_emb) + InfoNCE(v_emb, v~_emb)]
      where ~ is a second masked view of the same clip whose masks come from
      the pipeline under ``view2_keys`` (``intra_loss``: tau 1.0, weight
      beta 0.01). Only the uni-modal encoders see the second view.

    ``inter_loss`` / ``intra_loss`` set to None switch a term off (alpha =
    beta = 0 without the cost of the second view). Clips whose
    ``audio_valid`` is False are left out of the audio and contrastive terms.

    The teacher (stage 2): an encoder of the student's architecture
    (``teacher.backbone`` defaults to ``backbone``) loaded from a stage-1
    checkpoint through the project's safe loader
    (:func:`~mmav_mask.models.algorithms.mavil_teacher.load_mavil_teacher`)
    in :meth:`init_weights`, as ``pretrained`` weights are in mmengine (the
    runner calls it before training and before resuming; a 'loss' forward
    without it is an error, never a random teacher). It is a sub-module,
    so it moves and casts with the student (same device, same precision:
    under AMP it runs in the same autocast region), but its parameters have
    ``requires_grad=False`` (mmengine's optimizer constructors skip them),
    it stays in eval mode, runs under ``torch.no_grad()``, is skipped by the
    student's init and is left out of the model's state dict, so runner
    checkpoints hold the student alone (a stage-2 checkpoint has the
    stage-1 layout and can itself be a teacher or be fine-tuned).

    Args:
        backbone: ``MAViLEncoder`` config.
        neck: ``AVMAEDecoder`` config (``fusion='separate'``); widths, video
            geometry and (stage 2) output widths default to the encoder's.
        video_head: raw video target (``PixelReconstructionHead``,
            ``norm_pix=False``); geometry and mean/std default to the ViT's and
            the data preprocessor's. Used with ``target='raw'``.
        audio_head: raw spectrogram target (``SpectrogramReconstructionHead``,
            ``norm_pix=False``). Used with ``target='raw'``.
        feature_head: latent target of stage 2 (``FeatureReconstructionHead``).
        inter_loss: ``InfoNCELoss`` config or None.
        intra_loss: ``InfoNCELoss`` config or None.
        target: one of ``TARGETS``.
        teacher: None (stage 1) or ``dict(checkpoint=PATH, backbone=None)``.
        view2_keys: input keys of the second view's (video, audio) masks.
        data_preprocessor: ``AVDataPreprocessor`` config.
        init_cfg: mmengine init config.
    """

    def __init__(self, backbone: ConfigType, neck: ConfigType,
                 video_head: ConfigType = dict(type='PixelReconstructionHead', norm_pix=False),
                 audio_head: ConfigType = dict(type='SpectrogramReconstructionHead',
                                               norm_pix=False),
                 feature_head: ConfigType = dict(type='FeatureReconstructionHead'),
                 inter_loss: Optional[ConfigType] = dict(type='InfoNCELoss', temperature=0.1,
                                                         loss_weight=0.1, symmetric=False),
                 intra_loss: Optional[ConfigType] = dict(type='InfoNCELoss', temperature=1.0,
                                                         loss_weight=0.01, symmetric=False),
                 target: str = 'raw', teacher: Optional[dict] = None,
                 view2_keys: Sequence[str] = ('mask_view2', 'audio_mask_view2'),
                 data_preprocessor: Optional[ConfigType] = None,
                 init_cfg: Optional[dict] = None) -> None:
        data_preprocessor, preproc_cfg = build_data_preprocessor(data_preprocessor)
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if target not in TARGETS:
            raise ValueError(f'target must be one of {TARGETS}, got {target!r}')
        if target == 'raw' and teacher is not None:
            raise ValueError("target 'raw' reconstructs pixels and spectrograms, so a teacher "
                             "would be unused (Table 4, column 1 is stage 1 itself); use "
                             "target='fusion' or 'unimodal' with a teacher.")
        if target != 'raw' and teacher is None:
            raise ValueError(f'target {target!r} predicts a frozen teacher\'s features: give '
                             "teacher=dict(checkpoint='<stage-1 MAViL checkpoint>').")
        if len(view2_keys) != 2:
            raise ValueError(f'view2_keys needs (video mask key, audio mask key), got {view2_keys}')
        self.target = target
        self.view2_keys = tuple(view2_keys)
        backbone_cfg = copy.deepcopy(backbone)
        self.backbone = build_optional(backbone)
        vit_v, vit_a = self.backbone.video, self.backbone.audio
        geometry = video_geometry(vit_v)

        self.teacher = None
        if teacher is not None:
            teacher = dict(teacher)
            if not teacher.get('checkpoint'):
                raise ValueError('teacher needs a checkpoint: a stage-1 MAViL checkpoint path')
            self.teacher = build_optional(teacher.get('backbone') or backbone_cfg)
            self.teacher_checkpoint = teacher['checkpoint']
            self.teacher.requires_grad_(False)
            self.teacher.eval()
            self.teacher.is_init = True  # init_weights must not touch the loaded weights
            self._register_state_dict_hook(_drop_teacher_keys)

        # stage 2 predicts the teacher's features: decoder outputs of the teacher's width
        out = {} if self.teacher is None else dict(video_out_channels=self.teacher.embed_dims,
                                                   audio_out_channels=self.teacher.embed_dims)
        neck = decoder_cfg(neck, vit_v, vit_a, **out)
        self.neck = build_optional(neck)
        if self.neck.objective != 'joint':
            raise ValueError('MAViL reconstructs each modality from its own decoder sequence: '
                             f"the neck's objective must be 'joint', got {self.neck.objective!r}")

        if target == 'raw':
            video_head = pixel_head_cfg(video_head, geometry, preproc_cfg)
            if isinstance(audio_head, dict):
                audio_head = {**dict(patch_size=vit_a.patch_size), **audio_head}
            self.video_head = build_optional(video_head)
            self.audio_head = build_optional(audio_head)
        else:
            self.video_head = build_optional(copy.deepcopy(feature_head))
            self.audio_head = build_optional(copy.deepcopy(feature_head))
        self.inter_loss = build_optional(inter_loss)
        self.intra_loss = build_optional(intra_loss)

    # ------------------------------------------------------------------ state
    def init_weights(self) -> None:
        """Student init (the teacher is skipped), then the teacher's checkpoint."""
        super().init_weights()
        if self.teacher is not None:
            load_mavil_teacher(self.teacher, self.teacher_checkpoint)
            self._teacher_loaded = True

    def train(self, mode: bool = True) -> 'MAViL':
        """The student follows ``mode``; the teacher always stays in eval mode."""
        super().train(mode)
        if self.teacher is not None:
            self.teacher.eval()
        return self

    # ------------------------------------------------------------------ input
    def _flatten(self, inputs: Dict[str, Tensor]) -> FlatViews:
        """Views merged into the batch (B = N * V); both modalities required."""
        video2, audio2 = self.view2_keys
        flat = flatten_views(inputs, mask_dims={'mask': 3, 'audio_mask': 2, video2: 3,
                                                audio2: 2})
        if flat.imgs is None or flat.audio is None:
            raise KeyError('MAViL needs inputs with both imgs and audio (PackAVInputs after '
                           'LoadAlignedAudio and an audio feature transform).')
        return flat

    def _masks(self, flat: FlatViews, keys: Sequence[str], why: str) -> List[Tensor]:
        missing = [k for k in keys if k not in flat.masks]
        if missing:
            raise KeyError(f'MAViL {why} needs the masks {list(keys)} in the inputs; missing '
                           f'{missing}. Add the mask generators to the pipeline and list the '
                           'keys in PackAVInputs(mask_keys=...).')
        return [flat.masks[k] for k in keys]

    # ---------------------------------------------------------------- compute
    @torch.no_grad()
    def teacher_targets(self, imgs: Tensor, audio: Tensor, audio_valid: Tensor
                        ) -> Dict[str, Tensor]:
        """The frozen teacher's features of the full, unmasked input.

        Returns:
            ``dict(video=(B, Nv, D_t), audio=(B, Na, D_t))``: uni-modal or
            fusion outputs by ``target``, every token.
        """
        if not getattr(self, '_teacher_loaded', False):
            raise RuntimeError(f'the MAViL teacher is not loaded: call model.init_weights() '
                               f'(the runner does) to read {self.teacher_checkpoint}')
        if self.teacher.training:  # e.g. someone called teacher.train() directly
            self.teacher.eval()
        feats = self.teacher(imgs, None, audio, None, audio_valid)
        if self.target == 'unimodal':
            return dict(video=feats.video_um, audio=feats.audio_um)
        return dict(video=feats.video_mm, audio=feats.audio_mm)

    def loss(self, inputs: Dict[str, Tensor],
             data_samples: Optional[List[ActionDataSample]] = None) -> Dict[str, Tensor]:
        """``loss_video``, ``loss_audio`` and, when enabled, ``loss_inter``, ``loss_intra``."""
        flat = self._flatten(inputs)
        mask, audio_mask = self._masks(flat, ('mask', 'audio_mask'), 'reconstruction')
        imgs, audio, valid = flat.imgs, flat.audio, flat.audio_valid
        feats = self.backbone(imgs, mask, audio, audio_mask, valid)
        preds = self.neck(feats.video_mm, mask, feats.audio_mm, audio_mask, valid)
        if self.target == 'raw':
            video_x, audio_x = imgs, audio
        else:
            targets = self.teacher_targets(imgs, audio, valid)
            video_x, audio_x = targets['video'], targets['audio']
        losses = dict(
            loss_video=AVMAE._weighted_mse(self.video_head, preds['video'], video_x, mask, None),
            loss_audio=AVMAE._weighted_mse(self.audio_head, preds['audio'], audio_x, audio_mask,
                                           valid))
        video_emb, audio_emb = feats.video_um.mean(1), feats.audio_um.mean(1)
        if self.inter_loss is not None:
            losses['loss_inter'] = self.inter_loss(audio_emb, video_emb, valid)
        if self.intra_loss is not None:
            mask2, audio_mask2 = self._masks(flat, self.view2_keys, 'intra-modal contrast')
            video2, audio2 = self.backbone.forward_unimodal(imgs, mask2, audio, audio_mask2)
            losses['loss_intra'] = 0.5 * (
                self.intra_loss(audio_emb, audio2.mean(1), valid)
                + self.intra_loss(video_emb, video2.mean(1)))
        return losses

    def embed(self, imgs: Tensor, audio: Tensor) -> Dict[str, Tensor]:
        """Mean-pooled uni-modal outputs of the full, unmasked input (retrieval).

        Returns:
            ``dict(video=(B, D), audio=(B, D))`` (a_emb, v_emb of Sec. 3.2
            without masking).
        """
        video_um, audio_um = self.backbone.forward_unimodal(imgs, None, audio, None)
        return dict(video=video_um.mean(1), audio=audio_um.mean(1))

    def forward(self, inputs: Dict[str, Tensor],
                data_samples: Optional[List[ActionDataSample]] = None,
                mode: str = 'tensor') -> Union[Dict[str, Tensor], List[ActionDataSample]]:
        """Runs the model.

        Args:
            inputs: ``dict(imgs=(N, V, C, T, H, W), audio=(N, V, L, F),
                audio_valid=(N,), mask=(N, T', H', W'), audio_mask=(N, Tg, Fg),
                <view2 masks>)`` from ``AVDataPreprocessor``.
            data_samples: data samples (may be None).
            mode: 'loss' -> the loss dict; 'predict' -> data samples with
                ``video_embedding`` / ``audio_embedding`` (D,) (mean over
                views) for ``AVRetrievalMetric`` and, with ``target='raw'``
                and masks in the inputs, ``rec_mse``, ``rec_pixel_mse``,
                ``rec_psnr``, ``rec_audio_mse`` for ``AVReconstructionMetric``;
                'tensor' -> ``dict(video=, audio=)`` embeddings (B = N * V, D).
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        flat = self._flatten(inputs)
        emb = self.embed(flat.imgs, flat.audio)
        if mode == 'tensor':
            return emb
        if mode == 'predict':
            return self._predict(flat, emb, data_samples)
        raise RuntimeError(f'Invalid mode {mode!r}; use loss, predict or tensor.')

    @torch.no_grad()
    def _predict(self, flat: FlatViews, emb: Dict[str, Tensor],
                 data_samples: Optional[List[ActionDataSample]]) -> List[ActionDataSample]:
        num, views = flat.num_samples, flat.num_views
        fields = dict(video_embedding=emb['video'].float(), audio_embedding=emb['audio'].float())
        if self.target == 'raw' and 'mask' in flat.masks and 'audio_mask' in flat.masks:
            mask, audio_mask = flat.masks['mask'], flat.masks['audio_mask']
            feats = self.backbone(flat.imgs, mask, flat.audio, audio_mask, flat.audio_valid)
            preds = self.neck(feats.video_mm, mask, feats.audio_mm, audio_mask, flat.audio_valid)
            head = self.video_head
            fields['rec_mse'] = head.per_sample_mse(preds['video'],
                                                    head.get_target(flat.imgs, mask))
            pixels = head.to_pixels(preds['video'], flat.imgs, mask).clamp_(0, 1)
            pix = head.per_sample_mse(pixels, head.ground_truth_pixels(flat.imgs, mask))
            fields['rec_pixel_mse'] = pix
            fields['rec_psnr'] = -10.0 * torch.log10(pix.clamp_min(1e-10))
            fields['rec_audio_mse'] = self.audio_head.per_sample_mse(
                preds['audio'], self.audio_head.get_target(flat.audio, audio_mask))
        if data_samples is None:
            data_samples = [ActionDataSample() for _ in range(num)]
        # a clip without audio is no retrieval query (AVRetrievalMetric reads this)
        valid = flat.audio_valid.view(num, views).all(1)
        for i, sample in enumerate(data_samples):
            sample.audio_valid = bool(valid[i])
        for key, value in fields.items():
            value = value.reshape(num, views, *value.shape[1:]).mean(1)
            for i, sample in enumerate(data_samples):
                setattr(sample, key, value[i])
        return data_samples


def _drop_teacher_keys(module: nn.Module, state_dict: Dict[str, Tensor], prefix: str,
                       local_metadata: dict) -> None:
    """State-dict hook: checkpoints hold the student only (the teacher has its own file)."""
    for key in [k for k in state_dict if k.startswith(prefix + 'teacher.')]:
        del state_dict[key]


__all__ = ['MAViL', 'TARGETS']
