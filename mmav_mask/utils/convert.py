"""Key mapping between VideoMAE-style encoders and MMAction2's VisionTransformer.

Three source layouts carry the same ViT encoder under different names:

* ``ours``: a pretraining checkpoint of this plugin (mmengine ``state_dict``),
  encoder under ``backbone.`` with VideoMAE's names (``patch_embed.proj``,
  ``blocks.N.mlp.fc1``...). The fine-tuning recognizers of this plugin use the
  same ``backbone.`` names.
* ``official``: an official VideoMAE pretraining checkpoint (``{'model': ...}``,
  encoder under ``encoder.``; decoder, ``encoder_to_decoder`` and
  ``mask_token`` beside it; ``pos_embed`` not stored).
* ``official_finetuned``: an official VideoMAE fine-tuned checkpoint (no
  prefix, ``fc_norm`` and ``head`` present).

The target is MMAction2 1.2's ``VisionTransformer``
(``mmaction/models/backbones/vit_mae.py``) inside a ``Recognizer3D``: keys
under ``backbone.``, ``patch_embed.projection`` for the tubelet convolution and
mmcv's ``FFN`` layout for the MLP (``mlp.layers.0.0`` = fc1, ``mlp.layers.1`` =
fc2). MMAction2 stores its fixed sinusoid ``pos_embed`` as a buffer in the
state dict, so the converter adds it when the source does not carry one.
"""
from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

import torch
from torch import Tensor

__all__ = ['ConversionReport', 'detect_encoder_layout', 'extract_encoder_state',
           'videomae_to_mmaction_vit', 'mmaction_vit_to_videomae', 'convert_checkpoint',
           'unwrap_state_dict', 'vit_sinusoid_table', 'infer_vit_kwargs',
           'check_mmaction_loadable', 'extract_audio_backbone']

# VideoMAE encoder name (without prefix) -> MMAction2 VisionTransformer name.
# Only the names that differ are listed; everything else maps to itself.
_VIDEOMAE_TO_MMACTION: List[Tuple[str, str]] = [
    (r'^patch_embed\.proj\.', 'patch_embed.projection.'),
    (r'^(blocks\.\d+)\.mlp\.fc1\.', r'\1.mlp.layers.0.0.'),
    (r'^(blocks\.\d+)\.mlp\.fc2\.', r'\1.mlp.layers.1.'),
]
_MMACTION_TO_VIDEOMAE: List[Tuple[str, str]] = [
    (r'^patch_embed\.projection\.', 'patch_embed.proj.'),
    (r'^(blocks\.\d+)\.mlp\.layers\.0\.0\.', r'\1.mlp.fc1.'),
    (r'^(blocks\.\d+)\.mlp\.layers\.1\.', r'\1.mlp.fc2.'),
]
# Names that belong to the ViT encoder in VideoMAE's layout (after the prefix).
_ENCODER_KEY = re.compile(
    r'^(patch_embed\.proj\.|blocks\.\d+\.|norm\.|fc_norm\.|pos_embed$)')


@dataclass
class ConversionReport:
    """What a conversion kept and dropped.

    Attributes:
        layout: detected source layout ('ours', 'official', 'official_finetuned').
        converted: number of tensors written.
        dropped: source keys that are not part of the ViT encoder (decoder,
            audio encoder, fusion, mask token...), not written.
        added: keys written without a source tensor (the sinusoid pos_embed).
        notes: free-text remarks (e.g. where the final norm went).
    """

    layout: str
    converted: int = 0
    dropped: List[str] = field(default_factory=list)
    added: List[str] = field(default_factory=list)
    notes: List[str] = field(default_factory=list)

    def summary(self) -> str:
        """One human-readable paragraph for command-line tools."""
        lines = [f'source layout: {self.layout}', f'converted tensors: {self.converted}',
                 f'added: {self.added or "none"}',
                 f'dropped (not part of the ViT encoder): {len(self.dropped)}']
        if self.dropped:
            prefixes = sorted({k.split('.')[0] for k in self.dropped})
            lines.append(f'  dropped groups: {prefixes}')
        lines.extend(self.notes)
        return '\n'.join(lines)


def unwrap_state_dict(checkpoint: Mapping[str, Any]) -> Dict[str, Tensor]:
    """Returns the tensor dict inside an mmengine / official / plain checkpoint.

    Args:
        checkpoint: ``{'state_dict': ...}`` (mmengine), ``{'model': ...}`` or
            ``{'module': ...}`` (official VideoMAE / DeepSpeed), or a plain
            state dict.

    Returns:
        The state dict, with a DataParallel ``module.`` prefix removed.
    """
    state = checkpoint
    for wrapper in ('state_dict', 'model', 'module'):
        if isinstance(state, Mapping) and wrapper in state and isinstance(
                state[wrapper], Mapping):
            state = state[wrapper]
            break
    if not isinstance(state, Mapping):
        raise TypeError(f'expected a state dict, got {type(state).__name__}')
    out = OrderedDict()
    for key, value in state.items():
        if not isinstance(value, Tensor):
            continue  # e.g. mmengine meta leftovers inside state_dict
        out[key[len('module.'):] if key.startswith('module.') else key] = value
    return out


def detect_encoder_layout(state: Mapping[str, Tensor]) -> str:
    """Tells which layout a state dict uses.

    Returns:
        'ours' (``backbone.patch_embed.proj.*``), 'official' (``encoder.*``),
        'official_finetuned' (unprefixed ``patch_embed.proj.*``) or
        'mmaction' (``backbone.patch_embed.projection.*``).

    Raises:
        ValueError: no ViT patch embedding found under a known prefix.
    """
    keys = set(state)
    if 'backbone.patch_embed.projection.weight' in keys:
        return 'mmaction'
    if 'backbone.patch_embed.proj.weight' in keys:
        return 'ours'
    if 'encoder.patch_embed.proj.weight' in keys:
        return 'official'
    if 'patch_embed.proj.weight' in keys:
        return 'official_finetuned'
    sample = sorted(keys)[:5]
    raise ValueError('no VideoMAE ViT encoder found (looked for patch_embed.proj.weight '
                     f'under backbone./encoder./no prefix); first keys: {sample}')


_PREFIX = {'ours': 'backbone.', 'official': 'encoder.', 'official_finetuned': '',
           'mmaction': 'backbone.'}


def extract_encoder_state(state: Mapping[str, Tensor],
                          layout: Optional[str] = None
                          ) -> Tuple[Dict[str, Tensor], Dict[str, Tensor], List[str]]:
    """Splits a state dict into the ViT encoder (VideoMAE names, no prefix),
    a classification head (if any) and the dropped keys.

    Args:
        state: a state dict in one of the layouts of :func:`detect_encoder_layout`.
        layout: the layout; detected when None.

    Returns:
        (encoder, head, dropped): ``encoder`` maps VideoMAE encoder names
        (``blocks.0.mlp.fc1.weight``...) to tensors; ``head`` maps 'weight' /
        'bias' of a linear classifier (official fine-tuned ``head.*`` or
        MMAction2 ``cls_head.fc_cls.*``) and is empty otherwise; ``dropped``
        lists the other keys.
    """
    layout = layout or detect_encoder_layout(state)
    prefix = _PREFIX[layout]
    encoder: Dict[str, Tensor] = OrderedDict()
    head: Dict[str, Tensor] = OrderedDict()
    dropped: List[str] = []
    for key, value in state.items():
        if layout == 'official_finetuned' and key.startswith('head.'):
            head[key[len('head.'):]] = value
            continue
        if layout == 'mmaction' and key.startswith('cls_head.fc_cls.'):
            head[key[len('cls_head.fc_cls.'):]] = value
            continue
        if not key.startswith(prefix):
            dropped.append(key)
            continue
        name = key[len(prefix):]
        if layout == 'mmaction':
            name = _rename(name, _MMACTION_TO_VIDEOMAE)
        if _ENCODER_KEY.match(name):
            encoder[name] = value
        else:
            dropped.append(key)
    return encoder, head, dropped


def _rename(name: str, rules: List[Tuple[str, str]]) -> str:
    for pattern, repl in rules:
        new, count = re.subn(pattern, repl, name)
        if count:
            return new
    return name


def vit_sinusoid_table(num_positions: int, dim: int) -> Tensor:
    """MMAction2's fixed position table, (1, num_positions, dim) float32.

    Uses MMAction2's own function so the buffer written matches what
    ``VisionTransformer`` would build itself bit for bit.
    """
    from mmaction.models.backbones.vit_mae import get_sinusoid_encoding
    return get_sinusoid_encoding(num_positions, dim)


def videomae_to_mmaction_vit(encoder: Mapping[str, Tensor], *,
                             num_frames: int = 16, img_size: int = 224,
                             mean_pooling: bool = True,
                             head: Optional[Mapping[str, Tensor]] = None,
                             report: Optional[ConversionReport] = None
                             ) -> Dict[str, Tensor]:
    """Renames a VideoMAE-layout encoder to an MMAction2 Recognizer3D state dict.

    Args:
        encoder: VideoMAE encoder names without prefix -> tensors (see
            :func:`extract_encoder_state`).
        num_frames: clip length T the MMAction2 model is built with; together
            with ``img_size`` it fixes the length of the generated pos_embed
            ((T / tubelet) * (img_size / patch)^2 tokens).
        img_size: input side length of the MMAction2 model.
        mean_pooling: target ``use_mean_pooling=True`` (MMAction2's default
            and VideoMAE's fine-tuning setting): the model has ``fc_norm``
            after mean pooling and no token-wise ``norm``. The pretrained
            encoder's final ``norm`` then initialises ``fc_norm`` (a source
            ``fc_norm`` wins). With False the final ``norm`` stays ``norm``.
        head: optional classifier 'weight'/'bias' written as
            ``cls_head.fc_cls.*`` (TimeSformerHead / I3DHead naming).
        report: filled in place when given.

    Returns:
        State dict with ``backbone.`` keys (and ``cls_head.fc_cls.*``).
    """
    out: Dict[str, Tensor] = OrderedDict()
    has_fc_norm = any(k.startswith('fc_norm.') for k in encoder)
    for name, value in encoder.items():
        if name.startswith('norm.'):
            if mean_pooling:
                if has_fc_norm:
                    continue  # fine-tuned source: its own fc_norm is the right one
                name = 'fc_norm.' + name[len('norm.'):]
        elif name.startswith('fc_norm.') and not mean_pooling:
            continue  # no fc_norm in the target; the token norm is kept instead
        out['backbone.' + _rename(name, _VIDEOMAE_TO_MMACTION)] = value.clone()
    num_copied = len(out)

    # MMAction2 keeps pos_embed in its state dict (a persistent buffer) and
    # official VideoMAE does not store it, so write the fixed table for the
    # target length; a stored table of another length is replaced, a learned
    # one of the right length is kept.
    weight = encoder['patch_embed.proj.weight']  # (D, C, tubelet, p, p)
    dim, tubelet, patch = weight.shape[0], weight.shape[2], weight.shape[3]
    num_positions = (num_frames // tubelet) * (img_size // patch) ** 2
    source_pos = encoder.get('pos_embed')
    if source_pos is None or source_pos.shape[1] != num_positions:
        num_copied -= source_pos is not None
        out['backbone.pos_embed'] = vit_sinusoid_table(num_positions, dim)
        if report is not None:
            report.added.append('backbone.pos_embed')
            if source_pos is not None:
                report.notes.append(
                    f'source pos_embed has {source_pos.shape[1]} positions; replaced by '
                    f'the fixed sinusoid table for {num_positions} '
                    f'({num_frames} frames, {img_size}px)')
    if head:
        for key, value in head.items():
            out['cls_head.fc_cls.' + key] = value.clone()
    if report is not None:
        report.converted = num_copied + len(head or {})
        if mean_pooling and not has_fc_norm and 'norm.weight' in encoder:
            report.notes.append('final encoder norm -> backbone.fc_norm '
                                '(mean pooling, VideoMAE fine-tuning layout)')
    return out


def mmaction_vit_to_videomae(state: Mapping[str, Tensor]) -> Dict[str, Tensor]:
    """Inverse renaming: MMAction2 ``backbone.*`` -> VideoMAE encoder names.

    Used by tests and by users going back to the plugin's backbone; the
    pos_embed buffer is dropped (the plugin builds its own table).
    """
    encoder, _, _ = extract_encoder_state(state, 'mmaction')
    encoder.pop('pos_embed', None)
    return encoder


def convert_checkpoint(checkpoint: Mapping[str, Any], *, num_frames: int = 16,
                       img_size: int = 224, mean_pooling: bool = True,
                       keep_head: bool = True) -> Tuple[Dict[str, Any], ConversionReport]:
    """Converts a loaded checkpoint to an mmengine checkpoint for MMAction2.

    Args:
        checkpoint: loaded object of an 'ours', 'official' or
            'official_finetuned' checkpoint.
        num_frames: see :func:`videomae_to_mmaction_vit`.
        img_size: see :func:`videomae_to_mmaction_vit`.
        mean_pooling: see :func:`videomae_to_mmaction_vit`.
        keep_head: write an official fine-tuned ``head`` as ``cls_head.fc_cls``.

    Returns:
        ``({'state_dict': ..., 'meta': {...}}, report)``; the result holds only
        tensors and plain Python values, so it loads with weights_only=True.
    """
    state = unwrap_state_dict(checkpoint)
    layout = detect_encoder_layout(state)
    if layout == 'mmaction':
        raise ValueError('the checkpoint is already in MMAction2 VisionTransformer layout')
    encoder, head, dropped = extract_encoder_state(state, layout)
    report = ConversionReport(layout=layout, dropped=dropped)
    converted = videomae_to_mmaction_vit(encoder, num_frames=num_frames, img_size=img_size,
                                         mean_pooling=mean_pooling,
                                         head=head if keep_head else None, report=report)
    meta = dict(converted_by='mmav_mask.utils.convert', source_layout=layout,
                num_frames=num_frames, img_size=img_size, mean_pooling=mean_pooling)
    return dict(state_dict=converted, meta=meta), report


def infer_vit_kwargs(state: Mapping[str, Tensor], *, num_frames: int = 16,
                     img_size: int = 224, mean_pooling: bool = True) -> Dict[str, Any]:
    """Reads the architecture of a converted ``backbone.*`` state dict.

    Args:
        state: output of :func:`videomae_to_mmaction_vit`.
        num_frames: clip length of the target model.
        img_size: input side of the target model.
        mean_pooling: whether the target uses mean pooling + fc_norm.

    Returns:
        Keyword arguments for MMAction2's ``VisionTransformer`` except
        ``num_heads``, which weights do not determine (the caller's config
        must give it: 6 for ViT-S, 12 for ViT-B, 16 for ViT-L).
    """
    weight = state['backbone.patch_embed.projection.weight']  # (D, C, t, p, p)
    depth = 1 + max(int(k.split('.')[2]) for k in state if k.startswith('backbone.blocks.'))
    hidden = state['backbone.blocks.0.mlp.layers.0.0.weight'].shape[0]
    return dict(img_size=img_size, patch_size=weight.shape[3], in_channels=weight.shape[1],
                embed_dims=weight.shape[0], depth=depth, mlp_ratio=hidden / weight.shape[0],
                qkv_bias='backbone.blocks.0.attn.q_bias' in state, num_frames=num_frames,
                tubelet_size=weight.shape[2], use_mean_pooling=mean_pooling,
                init_values=0.1 if 'backbone.blocks.0.gamma_1' in state else 0.0)


def check_mmaction_loadable(state: Mapping[str, Tensor], **kwargs: Any
                            ) -> Tuple[List[str], List[str]]:
    """Loads ``backbone.*`` of ``state`` into a fresh MMAction2 VisionTransformer.

    Args:
        state: converted state dict.
        **kwargs: forwarded to :func:`infer_vit_kwargs`.

    Returns:
        (missing, unexpected) backbone keys; both empty for a complete
        conversion. Shape mismatches raise RuntimeError from torch.
    """
    from mmaction.models.backbones.vit_mae import VisionTransformer
    vit_kwargs = infer_vit_kwargs(state, **kwargs)
    model = VisionTransformer(num_heads=1, init_cfg=None, **vit_kwargs)
    backbone = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    result = model.load_state_dict(backbone, strict=False)
    return list(result.missing_keys), list(result.unexpected_keys)


def extract_audio_backbone(checkpoint: Mapping[str, Any], *, prefix: str = 'audio_backbone.',
                           keep_proj: bool = False) -> Tuple[Dict[str, Any], int]:
    """Audio encoder of a pretraining checkpoint as a ``RecognizerAudio`` checkpoint.

    The pretraining model names its audio encoder ``audio_backbone``; MMAction2's
    ``RecognizerAudio`` calls it ``backbone``. Its final projection to the
    visual width (``proj``) does not exist in ``out_type='feature_map'``
    mode, so it is dropped unless ``keep_proj``.

    Args:
        checkpoint: loaded pretraining checkpoint.
        prefix: the audio encoder's prefix in the checkpoint.
        keep_proj: keep ``proj.*`` (for a tokens-mode encoder).

    Returns:
        (``{'state_dict': {'backbone.*': ...}, 'meta': {...}}``, tensors written).

    Raises:
        ValueError: the checkpoint holds no tensor under ``prefix``.
    """
    state = unwrap_state_dict(checkpoint)
    out = OrderedDict()
    for key, value in state.items():
        if not key.startswith(prefix):
            continue
        name = key[len(prefix):]
        if name.startswith('proj.') and not keep_proj:
            continue
        out['backbone.' + name] = value.clone()
    if not out:
        raise ValueError(f'no audio encoder weights under {prefix!r} in the checkpoint')
    return dict(state_dict=out, meta=dict(converted_by='mmav_mask.utils.convert',
                                          source_prefix=prefix)), len(out)
