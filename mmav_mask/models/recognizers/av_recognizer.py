"""Audio-visual action recognizer for fine-tuning the pretrained encoders."""
from __future__ import annotations

import copy
import inspect
from typing import Dict, List, NamedTuple, Optional, Sequence, Tuple, Union

import torch
from mmaction.models.recognizers.base import BaseRecognizer
from mmaction.registry import MODELS
from mmaction.utils import OptSampleList
from mmengine.logging import print_log
from torch import Tensor, nn

from ..checkpoint_layouts import (RECOGNIZER_FC_NORM_RULES, RECOGNIZER_KEY_RULES,
                                  mmav_backbone_to_mmaction, rename_by_prefix,
                                  to_mmav, unwrap_state_dict)
from ..utils.build import ConfigType, build_optional
from ..utils.audio import encode_valid_audio, keep_in_graph
from ..utils.views import flatten_views


# Renaming rules of pretraining checkpoints (see checkpoint_layouts): the final
# encoder norm initialises ``backbone.fc_norm`` of a mean-pooling backbone.
FC_NORM_RULES = RECOGNIZER_FC_NORM_RULES
DEFAULT_KEY_RULES = RECOGNIZER_KEY_RULES


def _accepts(module_type, arg: str) -> bool:
    """Whether the MODELS class ``module_type`` (name or class) takes ``arg``."""
    cls = MODELS.get(module_type) if isinstance(module_type, str) else module_type
    try:
        return cls is not None and arg in inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False


class PretrainedLoadReport(NamedTuple):
    """Outcome of :meth:`AVRecognizer.load_pretrained` (our key names)."""
    loaded: List[str]
    missing: List[str]
    unexpected: List[str]
    mismatched: List[str]
    dropped: List[str]


@MODELS.register_module()
class AVRecognizer(BaseRecognizer):
    """Classifies a clip from its video, its audio or both (late fusion).

    Per view: the visual encoder gives one vector, its own read-out
    (``MaskedVideoViT(use_mean_pooling=True)`` or MMAction2's
    ``VisionTransformer``: ``fc_norm`` of the mean token, VideoMAE's
    fine-tuning read-out; a backbone that returns tokens (B, N, D) is mean
    pooled here); the audio encoder (``TalkNetAudioEncoder``,
    ``out_type='tokens'``) gives one token per time step, mean pooled and
    normalised by ``audio_norm``. The two vectors are fused (``'concat'`` ->
    Dv + Da channels, ``'sum'`` -> Dv) and classified by ``cls_head`` (e.g.
    MMAction2's ``TimeSformerHead``). Views are scored separately and averaged
    by the head (``average_clips``), as in ``Recognizer3D``. Either encoder
    may be None: video-only (no ``audio_backbone``) or audio-only
    (``backbone=None``) fine-tuning use the same class and the same
    ``pretrained`` loading.

    Clips without audio (``audio_valid`` False) get an all-zero audio vector:
    the classifier then sees exactly the video-only feature plus its bias, and
    the audio encoder never sees their placeholder input (so its BatchNorm
    statistics come from real audio only).

    Inputs follow :func:`mmav_mask.models.utils.views.flatten_views`: the
    ``AVDataPreprocessor`` dict, or the plain video tensor of MMAction2's
    ``ActionDataPreprocessor``.

    Args:
        backbone: visual encoder config (``MaskedVideoViT`` or MMAction2's
            ``VisionTransformer``) or None for audio only; use its
            ``drop_path_rate`` for stochastic depth. A backbone with
            ``takes_audio = True`` (``TwoStreamViT``, MBT) gets the audio too
            and returns the fused vector; leave ``audio_backbone`` None then.
        audio_backbone: audio encoder config (``TalkNetAudioEncoder`` in
            tokens mode; its ``out_dim`` gives Da) or None for video only.
        cls_head: MMAction2 classification head whose ``in_channels`` must
            equal the fused width (Dv + Da for 'concat', Dv for 'sum', or the
            one encoder's width).
        fusion: 'concat' or 'sum' of the pooled vectors.
        fc_norm: default of the backbone config's ``use_mean_pooling`` when
            it does not set it and the backbone takes that argument (True:
            mean pooling + ``backbone.fc_norm``; False: the backbone's
            token-wise norm, tokens mean pooled here).
        audio_drop_prob: while training, treat a clip with audio as silent
            with this probability (modality dropout; trains the video-only
            path that UCF101's silent clips use at test time).
        pretrained: checkpoint of ``AVMaskEnhancer`` pretraining (or an
            official VideoMAE pretraining file) loaded in :meth:`init_weights`.
        pretrained_key_rules: (source prefix, our prefix) renaming rules; the
            default maps ``backbone.``/``encoder.`` -> ``backbone.``,
            ``audio_backbone.`` -> ``audio_backbone.`` and, for a mean-pooling
            backbone, the final encoder norm -> ``backbone.fc_norm.``; keys
            matching no rule (decoder, fusion, mask token) are dropped.
        train_cfg: unused, kept for MMAction2 symmetry.
        test_cfg: ``dict(max_testing_views=K)`` scores K views at a time at
            test time (memory bound), as ``Recognizer3D``.
        data_preprocessor: ``AVDataPreprocessor`` config (default); an
            ``ActionDataPreprocessor`` config (e.g. inherited from an
            MMAction2 config) becomes an ``AVDataPreprocessor`` with the same
            settings.
        init_cfg: mmengine init config.
    """

    def __init__(self, backbone: Optional[ConfigType], cls_head: ConfigType,
                 audio_backbone: Optional[ConfigType] = None, fusion: str = 'concat',
                 fc_norm: bool = True, audio_drop_prob: float = 0.0,
                 pretrained: Optional[str] = None,
                 pretrained_key_rules: Optional[Sequence[Sequence[str]]] = None,
                 train_cfg: Optional[dict] = None, test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[ConfigType] = None,
                 init_cfg: Optional[dict] = None) -> None:
        if fusion not in ('concat', 'sum'):
            raise ValueError(f"fusion must be 'concat' or 'sum', got {fusion!r}")
        if not 0.0 <= audio_drop_prob < 1.0:
            raise ValueError(f'audio_drop_prob must be in [0, 1), got {audio_drop_prob}')
        if backbone is None and audio_backbone is None:
            raise ValueError('AVRecognizer needs a backbone, an audio_backbone or both')
        if data_preprocessor is None:
            data_preprocessor = dict(type='AVDataPreprocessor')
        elif isinstance(data_preprocessor, dict) and str(data_preprocessor.get('type')).split(
                '.')[-1] == 'ActionDataPreprocessor':
            # An MMAction2 config's preprocessor: same settings, and the audio batched too
            # (AVDataPreprocessor is its subclass; video-only batches are unchanged).
            data_preprocessor = dict(data_preprocessor, type='AVDataPreprocessor')
        if isinstance(backbone, dict) and 'use_mean_pooling' not in backbone and \
                _accepts(backbone.get('type'), 'use_mean_pooling'):
            backbone = dict(backbone, use_mean_pooling=fc_norm)
        if backbone is not None:
            super().__init__(backbone=backbone, cls_head=cls_head, train_cfg=train_cfg,
                             test_cfg=test_cfg, data_preprocessor=data_preprocessor)
        else:  # audio only: BaseRecognizer insists on a visual backbone
            super(BaseRecognizer, self).__init__(data_preprocessor=data_preprocessor)
            self.backbone_from = 'mmaction2'
            self.backbone = None
            self.cls_head = MODELS.build(cls_head)
            self.train_cfg, self.test_cfg = train_cfg, test_cfg
        # BaseRecognizer takes no init_cfg; set it the way BaseModule would.
        self.init_cfg = copy.deepcopy(init_cfg)
        self.audio_backbone = build_optional(audio_backbone)
        if getattr(self.backbone, 'takes_audio', False) and self.audio_backbone is not None:
            raise ValueError(f'{type(self.backbone).__name__} encodes the audio itself; '
                             'set audio_backbone=None')
        self.fusion = fusion
        self.audio_drop_prob = audio_drop_prob
        self.pretrained = pretrained

        video_dim = int(self.backbone.embed_dims) if self.backbone is not None else 0
        audio_dim = 0
        if self.audio_backbone is not None:
            audio_dim = int(getattr(self.audio_backbone, 'out_dim', 0) or
                            getattr(self.audio_backbone, 'embed_dims', 0))
            if not audio_dim:
                raise ValueError('audio_backbone must expose out_dim (tokens mode)')
            if getattr(self.audio_backbone, 'out_type', 'tokens') != 'tokens':
                raise ValueError("AVRecognizer needs the audio encoder in out_type='tokens'")
        both = bool(video_dim and audio_dim)
        if both and fusion == 'sum' and audio_dim != video_dim:
            raise ValueError(f"fusion 'sum' needs equal widths, got video {video_dim}, "
                             f'audio {audio_dim}')
        self.video_dim, self.audio_dim = video_dim, audio_dim
        self.feat_dim = (video_dim + audio_dim if fusion == 'concat' or not both
                         else video_dim)
        head_in = getattr(self.cls_head, 'in_channels', self.feat_dim)
        if head_in != self.feat_dim:
            raise ValueError(f'cls_head.in_channels is {head_in} but the {fusion!r} '
                             f'feature has {self.feat_dim} channels')

        # the backbone owns its read-out (fc_norm after pooling, or its token norm)
        self.use_fc_norm = getattr(self.backbone, 'fc_norm', None) is not None
        if self.audio_backbone is not None:
            eps = getattr(getattr(self.backbone, 'fc_norm', None) or
                          getattr(self.backbone, 'norm', None), 'eps', 1e-6)
            self.audio_norm = nn.LayerNorm(audio_dim, eps=eps)
        else:
            self.audio_norm = None
        # a backbone that holds both streams (TwoStreamViT) names its own key rules
        own_rules = getattr(self.backbone, 'pretrained_key_rules', None)
        rules = list(pretrained_key_rules) if pretrained_key_rules is not None else (
            list(own_rules) if own_rules is not None else
            list(FC_NORM_RULES if self.use_fc_norm else ()) + list(DEFAULT_KEY_RULES))
        self.pretrained_key_rules = [tuple(r) for r in rules]

    # ------------------------------------------------------------ weights
    def init_weights(self) -> None:
        """Module inits, then the ``pretrained`` checkpoint if given."""
        super().init_weights()
        if self.pretrained:
            self.load_pretrained(self.pretrained)

    def map_pretrained_keys(self, state: Dict[str, Tensor]
                            ) -> Tuple[Dict[str, Tensor], List[str]]:
        """Renames a checkpoint's state dict (any layout of
        :mod:`~mmav_mask.models.checkpoint_layouts`) to this model's keys.

        Returns:
            (mapped state dict, dropped source keys).
        """
        mapped, dropped = rename_by_prefix(to_mmav(state)[0], self.pretrained_key_rules)
        if hasattr(getattr(self.backbone, 'patch_embed', None), 'projection'):
            mapped = mmav_backbone_to_mmaction(mapped)  # MMAction2's VisionTransformer
            mapped.pop('backbone.pos_embed', None)
        return mapped, dropped

    def load_pretrained(self, path: str) -> PretrainedLoadReport:
        """Loads encoder weights from a pretraining checkpoint.

        The file (path or URL) is read tensors-only by
        :func:`mmav_mask.utils.safe_load`; our runner's checkpoints, official
        VideoMAE, MMAction2 ViT and TalkNet files all load.

        Args:
            path: ``AVMaskEnhancer`` / ``VideoMAE`` / TalkNet checkpoint.

        Returns:
            :class:`PretrainedLoadReport`; missing keys are also logged.
        """
        from mmav_mask.utils import safe_load
        mapped, dropped = self.map_pretrained_keys(
            unwrap_state_dict(safe_load(path, map_location='cpu')))
        own = self.state_dict()
        mismatched = [k for k, v in mapped.items()
                      if k in own and tuple(own[k].shape) != tuple(v.shape)]
        for key in mismatched:
            mapped.pop(key)
        result = self.load_state_dict(mapped, strict=False)
        # The classifier and the audio read-out norm are new by design; anything
        # else missing is worth a warning.
        new = ('cls_head.', 'audio_norm.') + tuple(
            getattr(self.backbone, 'new_param_prefixes', ()))
        missing = [k for k in result.missing_keys if not k.startswith(new)]
        report = PretrainedLoadReport(
            loaded=[k for k in mapped if k not in result.unexpected_keys],
            missing=missing, unexpected=list(result.unexpected_keys),
            mismatched=mismatched, dropped=dropped)
        print_log(f'AVRecognizer: loaded {len(report.loaded)} tensors from {path}; '
                  f'missing (besides cls_head/audio_norm): {missing or "none"}; unexpected: '
                  f'{report.unexpected or "none"}; shape mismatch: {mismatched or "none"}; '
                  f'dropped {len(dropped)} non-encoder keys', 'current',
                  level=30 if (missing or report.unexpected or mismatched) else 20)
        return report

    # ------------------------------------------------------------ features
    @staticmethod
    def _flatten_views(inputs: Union[Dict[str, Tensor], Tensor]
                       ) -> Tuple[Optional[Tensor], Optional[Tensor], Tensor, int]:
        """Merges the view axis into the batch (rules: :mod:`..utils.views`).

        Returns:
            imgs (N*V, C, T, H, W) or None, audio (N*V, L, F) or None, valid
            (N*V,) bool (False everywhere when there is no audio), V.
        """
        flat = flatten_views(inputs, mask_dims={})
        return flat.imgs, flat.audio, flat.audio_valid, flat.num_views

    def video_feature(self, imgs: Tensor) -> Tensor:
        """(B, C, T, H, W) -> (B, Dv) visual feature (every tubelet, no masking)."""
        out = self.backbone(imgs)
        if out.dim() == 3:  # tokens (B, N, D): a backbone without its own pooling
            out = out.mean(dim=1)
        if out.dim() != 2:
            raise ValueError(f'{type(self.backbone).__name__} returned shape '
                             f'{tuple(out.shape)}; AVRecognizer needs (B, D) or (B, N, D)')
        return out

    def audio_feature(self, audio: Optional[Tensor], valid: Tensor) -> Tensor:
        """Pooled audio feature, zero for clips without audio.

        Args:
            audio: (B, L, F) features or None.
            valid: (B,) bool.

        Returns:
            (B, Da); rows of invalid clips are exactly zero.
        """
        tokens = encode_valid_audio(self.audio_backbone, audio, valid)
        if tokens is None:
            out = valid.new_zeros((valid.shape[0], self.audio_dim), dtype=torch.float32)
            return keep_in_graph(out, self.audio_backbone, self.audio_norm) \
                if self.training else out
        # pool and norm the clips with audio only, so silent rows stay exactly zero
        feats = self.audio_norm(tokens[valid].mean(dim=1))
        out = feats.new_zeros((valid.shape[0], feats.shape[1]))
        return out.index_put((valid.nonzero(as_tuple=True)[0], ), feats)

    def fuse(self, video: Optional[Tensor], audio: Optional[Tensor]) -> Tensor:
        """(B, Dv), (B, Da) -> (B, feat_dim); a missing encoder's vector is None."""
        if video is None or audio is None:
            return video if audio is None else audio
        if self.fusion == 'concat':
            return torch.cat([video, audio.to(video.dtype)], dim=1)
        return video + audio.to(video.dtype)

    def _features(self, imgs: Optional[Tensor], audio: Optional[Tensor],
                  valid: Tensor) -> Tensor:
        if getattr(self.backbone, 'takes_audio', False):  # both streams in one backbone
            return self.backbone(imgs, audio, self._drop_audio(valid))
        video_feat = audio_feat = None
        if self.backbone is not None:
            if imgs is None:
                raise KeyError("inputs has no 'imgs' but the recognizer has a visual backbone")
            video_feat = self.video_feature(imgs)
        if self.audio_backbone is not None:
            audio_feat = self.audio_feature(audio, self._drop_audio(valid))
        return self.fuse(video_feat, audio_feat)

    def _drop_audio(self, valid: Tensor) -> Tensor:
        """(B,) audio_valid with modality dropout applied while training."""
        if self.training and self.audio_drop_prob > 0:
            keep = torch.rand(valid.shape, device=valid.device) >= self.audio_drop_prob
            valid = valid & keep
        return valid

    def loss(self, inputs: Dict[str, Tensor], data_samples: List, **kwargs) -> dict:
        """Classification loss; several training views of a clip count as
        separate samples with the clip's label (repeated augmentation)."""
        feats, _ = self.extract_feat(inputs, data_samples=data_samples)
        num_views = feats.shape[0] // max(len(data_samples), 1)
        if num_views > 1:
            data_samples = [s for s in data_samples for _ in range(num_views)]
        return self.cls_head.loss(feats, data_samples)

    def extract_feat(self, inputs: Dict[str, Tensor], stage: str = 'backbone',
                     data_samples: OptSampleList = None, test_mode: bool = False
                     ) -> Tuple[Tensor, dict]:
        """Fused features (or logits) of every view.

        Args:
            inputs: data preprocessor output (see :func:`..utils.views.flatten_views`).
            stage: 'backbone' -> fused (N*V, feat_dim) features; 'head' ->
                (N*V, num_classes) logits (only outside test_mode).
            data_samples: unused (MMAction2 signature).
            test_mode: score ``test_cfg.max_testing_views`` views at a time.

        Returns:
            (features, kwargs for the head's loss / predict).
        """
        imgs, audio, valid, _ = self._flatten_views(inputs)
        chunk = (self.test_cfg or {}).get('max_testing_views') if test_mode else None
        if chunk:
            feats = torch.cat([
                self._features(None if imgs is None else imgs[i:i + chunk],
                               None if audio is None else audio[i:i + chunk],
                               valid[i:i + chunk])
                for i in range(0, valid.shape[0], chunk)])
        else:
            feats = self._features(imgs, audio, valid)
        if stage == 'head' and not test_mode:
            return self.cls_head(feats), {}
        return feats, {}


__all__ = ['AVRecognizer', 'PretrainedLoadReport', 'DEFAULT_KEY_RULES', 'FC_NORM_RULES']
