"""Checkpoint key layouts: one unwrap, one detector, named filters between layouts.

Every weight-loading path of the plugin (``pretrained`` of the recognizers and
backbones, ``audio_backbone.pretrained``, ``tools/convert/*``) goes through this
module, in the spirit of timm's ``checkpoint_filter_fn``: a file is read with
the safe loader (:func:`mmav_mask.utils.safe_load`), unwrapped, its layout
detected, and a named filter renames it.

Layouts (:func:`detect_layout`):

``'mmav'``
    this plugin's models (``AVMaskEnhancer``, ``AVRecognizer``,
    ``MaskedVideoViT`` inside them): ``backbone.*`` with VideoMAE's names
    (``patch_embed.proj``, ``blocks.N.mlp.fc1``...), ``audio_backbone.*``,
    ``fusion.*``, ``decoder.*``, ``mask_token``.
``'videomae'``
    official VideoMAE pretraining (MCG-NJU/VideoMAE): ``encoder.*``,
    ``decoder.*``, ``encoder_to_decoder.weight``, ``mask_token``; the fixed
    sinusoid ``pos_embed`` is not stored.
``'videomae_finetuned'``
    official VideoMAE fine-tuned: unprefixed ``patch_embed.proj.*``,
    ``blocks.*``, ``fc_norm``/``norm``, ``head``.
``'mmaction_vit'``
    MMAction2 1.2 ``Recognizer3D`` + ``VisionTransformer``: ``backbone.*`` with
    ``patch_embed.projection`` and mmcv FFN names (``mlp.layers.0.0`` = fc1,
    ``mlp.layers.1`` = fc2), ``backbone.pos_embed`` stored, ``cls_head.*``.
``'avmae'``
    an ``AVMAE`` (Audiovisual MAE) pretraining checkpoint: ``backbone.video.*``
    and ``backbone.audio.*`` encoders whose shared layers live once, in the
    video ViT; :func:`~mmav_mask.models.algorithms.av_mae_checkpoint.untie_avmae_encoders`
    copies them into two stand-alone encoders (``backbone.*``, ``audio_backbone.*``).
``'mavil'``
    a ``MAViL`` checkpoint (stage 1 or 2; the stage-2 teacher is never
    stored): ``backbone.video.*`` and ``backbone.audio.*`` uni-modal ViTs,
    ``backbone.fusion.*`` the fusion encoder, ``neck.*`` the decoders;
    :func:`filter_mavil` keeps the two ViTs for fine-tuning.
``'talknet'``
    TalkNet-ASD's published files (``talkNet.saveParameters``:
    ``torch.save(talkNet.state_dict())``): the audio encoder under
    ``model.audioEncoder.*`` with the same module names as
    ``TalkNetAudioEncoder`` (``conv1``, ``bn1``, ``layerK.N.{conv1,bn1,conv2,
    bn2,se.fc.0,se.fc.2,downsample.0,downsample.1}``), next to
    ``model.visualFrontend.*``, ``model.crossA2V.*``, ``lossAV.*``...
"""
from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, NamedTuple, Optional, Sequence, Tuple

import torch
from mmengine.logging import print_log
from torch import Tensor, nn

StateDict = Dict[str, Tensor]

LAYOUTS = ('mmav', 'avmae', 'mavil', 'videomae', 'videomae_finetuned', 'mmaction_vit', 'talknet')

# Order of the wrapper keys tried by unwrap_state_dict. mmengine checkpoints hold
# the weights in 'state_dict' next to 'meta'/'optimizer'/'message_hub' and never
# a 'model' entry; official VideoMAE / DeiT / MAE files use 'model' (beside
# 'optimizer', 'epoch', 'args'); DeepSpeed-style files use 'module'. Trying
# 'state_dict' first means an mmengine file is never mistaken for another
# wrapper, and a file with a 'model' entry that is itself a module path (a
# string) is skipped because only mappings count.
WRAPPER_KEYS = ('state_dict', 'model', 'module')


def unwrap_state_dict(checkpoint: Any) -> StateDict:
    """The tensor dict inside a loaded checkpoint.

    Args:
        checkpoint: a plain state dict or one under ``'state_dict'``,
            ``'model'`` or ``'module'`` (tried in :data:`WRAPPER_KEYS` order).

    Returns:
        Ordered ``name -> tensor`` dict; a DistributedDataParallel ``module.``
        prefix is removed and non-tensor entries are dropped.

    Raises:
        TypeError: ``checkpoint`` is not a mapping.
    """
    if not isinstance(checkpoint, Mapping):
        raise TypeError(f'expected a checkpoint dict, got {type(checkpoint).__name__}')
    state = checkpoint
    for wrapper in WRAPPER_KEYS:
        if isinstance(state.get(wrapper), Mapping):
            state = state[wrapper]
            break
    out: StateDict = OrderedDict()
    for key, value in state.items():
        if isinstance(value, Tensor):
            out[key[len('module.'):] if key.startswith('module.') else key] = value
    return out


def detect_layout(state: Mapping[str, Tensor]) -> str:
    """Which of :data:`LAYOUTS` a state dict uses.

    Raises:
        ValueError: no known layout (the message lists a few keys).
    """
    keys = list(state)

    def has(prefix: str) -> bool:
        return any(k.startswith(prefix) for k in keys)

    if has('backbone.patch_embed.projection.'):
        return 'mmaction_vit'
    if has('backbone.video.') and has('backbone.fusion.'):
        return 'mavil'
    if has('backbone.video.'):
        return 'avmae'
    if has('backbone.patch_embed.proj.') or has('audio_backbone.') or has('fusion.'):
        return 'mmav'
    if has('encoder.patch_embed.proj.') or has('encoder_to_decoder.'):
        return 'videomae'
    if has('patch_embed.proj.'):
        return 'videomae_finetuned'
    if has('model.audioEncoder.') or has('audioEncoder.'):
        return 'talknet'
    if has('backbone.'):  # e.g. an audio-only RecognizerAudio file or a bare encoder
        return 'mmav'
    raise ValueError('unknown checkpoint layout: no ViT patch embedding '
                     '(backbone./encoder./unprefixed patch_embed.proj), no audio_backbone. '
                     f'and no TalkNet model.audioEncoder. keys; first keys: {sorted(keys)[:6]}')


# ------------------------------------------------------- renaming primitives
def rename_by_prefix(state: Mapping[str, Tensor], rules: Sequence[Sequence[str]]
                     ) -> Tuple[StateDict, List[str]]:
    """Renames keys by the first matching ``(source prefix, target prefix)`` rule.

    Returns:
        (renamed dict, source keys no rule matched, i.e. dropped).
    """
    out: StateDict = OrderedDict()
    dropped: List[str] = []
    for key, value in state.items():
        for src, dst in rules:
            if key.startswith(src):
                out[dst + key[len(src):]] = value
                break
        else:
            dropped.append(key)
    return out, dropped


def _rename(name: str, rules: Sequence[Tuple[str, str]]) -> str:
    for pattern, repl in rules:
        new, count = re.subn(pattern, repl, name)
        if count:
            return new
    return name


# VideoMAE encoder name (no prefix) <-> MMAction2 VisionTransformer name; only
# the names that differ are listed.
VIDEOMAE_TO_MMACTION: Tuple[Tuple[str, str], ...] = (
    (r'^patch_embed\.proj\.', 'patch_embed.projection.'),
    (r'^(blocks\.\d+)\.mlp\.fc1\.', r'\1.mlp.layers.0.0.'),
    (r'^(blocks\.\d+)\.mlp\.fc2\.', r'\1.mlp.layers.1.'),
)
MMACTION_TO_VIDEOMAE: Tuple[Tuple[str, str], ...] = (
    (r'^patch_embed\.projection\.', 'patch_embed.proj.'),
    (r'^(blocks\.\d+)\.mlp\.layers\.0\.0\.', r'\1.mlp.fc1.'),
    (r'^(blocks\.\d+)\.mlp\.layers\.1\.', r'\1.mlp.fc2.'),
)
# Names that belong to the ViT encoder in VideoMAE's layout (after the prefix).
_ENCODER_KEY = re.compile(r'^(patch_embed\.proj\.|blocks\.\d+\.|norm\.|fc_norm\.|pos_embed$)')
# Official VideoMAE prefix -> ours, longest first.
_VIDEOMAE_PREFIXES = (('encoder_to_decoder.', 'fusion.encoder_to_decoder.'),
                      ('encoder.', 'backbone.'), ('decoder.', 'decoder.'))
# Fixed sinusoid tables: ours are recomputed buffers, a stored copy is dropped.
_FIXED_TABLES = ('pos_embed', 'encoder.pos_embed', 'decoder.pos_embed', 'backbone.pos_embed')
TALKNET_PREFIXES = ('model.audioEncoder.', 'audioEncoder.')


# ------------------------------------------------------ filters -> 'mmav'
def filter_videomae(state: Mapping[str, Tensor]) -> StateDict:
    """Official VideoMAE (pretraining or fine-tuned) -> ``'mmav'`` keys.

    ``encoder.X`` -> ``backbone.X``; ``decoder.X`` -> ``decoder.X``;
    ``encoder_to_decoder.weight`` -> ``fusion.encoder_to_decoder.weight``;
    ``mask_token`` kept; a fine-tuned file's ``patch_embed``/``blocks``/
    ``norm``/``fc_norm`` -> ``backbone.*`` and ``head.*`` -> ``cls_head.fc_cls.*``;
    stored ``pos_embed`` tables dropped.
    """
    pretrain = any(k.startswith('encoder.') for k in state)
    out: StateDict = OrderedDict()
    for key, value in state.items():
        if key in _FIXED_TABLES:
            continue
        new = key
        if pretrain:
            for old, ours in _VIDEOMAE_PREFIXES:
                if key.startswith(old):
                    new = ours + key[len(old):]
                    break
        elif _ENCODER_KEY.match(key):
            new = 'backbone.' + key
        elif key.startswith('head.'):
            new = 'cls_head.fc_cls.' + key[len('head.'):]
        out[new] = value
    return out


def filter_mmaction_vit(state: Mapping[str, Tensor]) -> StateDict:
    """MMAction2 ``VisionTransformer`` checkpoint -> ``'mmav'`` keys.

    ``backbone.patch_embed.projection`` -> ``backbone.patch_embed.proj``,
    ``mlp.layers.0.0``/``mlp.layers.1`` -> ``mlp.fc1``/``mlp.fc2``; the stored
    ``backbone.pos_embed`` is dropped; other keys (``cls_head.*``) are kept.
    """
    out: StateDict = OrderedDict()
    for key, value in state.items():
        if key in _FIXED_TABLES:
            continue
        if key.startswith('backbone.'):
            key = 'backbone.' + _rename(key[len('backbone.'):], MMACTION_TO_VIDEOMAE)
        out[key] = value
    return out


def filter_talknet(state: Mapping[str, Tensor]) -> StateDict:
    """TalkNet-ASD checkpoint -> ``'mmav'`` keys: its audio encoder only.

    ``model.audioEncoder.X`` (or ``audioEncoder.X``) -> ``audio_backbone.X``;
    the names below the prefix are already ``TalkNetAudioEncoder``'s. The
    visual front end, cross/self attention and loss heads are dropped; the
    projection ``audio_backbone.proj`` has no TalkNet counterpart.
    """
    out: StateDict = OrderedDict()
    for key, value in state.items():
        for prefix in TALKNET_PREFIXES:
            if key.startswith(prefix):
                out['audio_backbone.' + key[len(prefix):]] = value
                break
    return out


def filter_avmae(state: Mapping[str, Tensor]) -> StateDict:
    """``AVMAE`` checkpoint -> ``'mmav'`` keys, shared encoder layers untied."""
    from .algorithms.av_mae_checkpoint import untie_avmae_encoders
    return untie_avmae_encoders(state)


def filter_mavil(state: Mapping[str, Tensor]) -> StateDict:
    """``MAViL`` checkpoint -> ``'mmav'`` keys: its two uni-modal encoders.

    ``backbone.video.X`` -> ``backbone.X``, ``backbone.audio.X`` ->
    ``audio_backbone.X`` (the paper fine-tunes these, Sec. 4.2 / App. B);
    the fusion encoder, decoders and heads are dropped.
    """
    return rename_by_prefix(state, (('backbone.video.', 'backbone.'),
                                    ('backbone.audio.', 'audio_backbone.')))[0]


FILTERS = {
    'mmav': lambda state: OrderedDict(state),
    'avmae': filter_avmae,
    'mavil': filter_mavil,
    'videomae': filter_videomae,
    'videomae_finetuned': filter_videomae,
    'mmaction_vit': filter_mmaction_vit,
    'talknet': filter_talknet,
}


def to_mmav(state: Mapping[str, Tensor], layout: Optional[str] = None
            ) -> Tuple[StateDict, str]:
    """Any known layout -> ``'mmav'`` keys.

    Returns:
        (renamed state dict, detected source layout).
    """
    layout = layout or detect_layout(state)
    if layout not in FILTERS:
        raise ValueError(f'unknown layout {layout!r}; known: {LAYOUTS}')
    return FILTERS[layout](state), layout


# ------------------------------------------------ 'mmav' -> fine-tuning models
# AVRecognizer: (source prefix, our prefix); the first matching rule renames a
# key. With a mean-pooling backbone (``use_mean_pooling``, as in VideoMAE
# fine-tuning and MMAction2's VisionTransformer) the token-wise final norm is
# replaced by ``backbone.fc_norm`` after pooling; the pretrained final norm's
# scale/shift is the best available initialisation for it.
RECOGNIZER_FC_NORM_RULES: Tuple[Tuple[str, str], ...] = (
    ('backbone.norm.', 'backbone.fc_norm.'),
)
RECOGNIZER_KEY_RULES: Tuple[Tuple[str, str], ...] = (
    ('backbone.', 'backbone.'),
    ('audio_backbone.', 'audio_backbone.'),
    ('fc_norm.', 'backbone.fc_norm.'),   # AVRecognizer checkpoints before the read-out moved
    ('audio_norm.', 'audio_norm.'),
)
# AVRecognizer with a TwoStreamViT backbone (MBT fine-tuning): the two encoders of
# an 'mmav' file (tools/convert/avmae_to_recognizer.py's, or an AVMAE checkpoint
# untied by to_mmav) become its streams.
TWO_STREAM_KEY_RULES: Tuple[Tuple[str, str], ...] = (
    ('backbone.', 'backbone.video.'),
    ('audio_backbone.', 'backbone.audio.'),
)


def mmav_backbone_to_mmaction(state: Mapping[str, Tensor]) -> StateDict:
    """Renames ``backbone.*`` VideoMAE names to MMAction2 VisionTransformer names."""
    out: StateDict = OrderedDict()
    for key, value in state.items():
        if key.startswith('backbone.'):
            key = 'backbone.' + _rename(key[len('backbone.'):], VIDEOMAE_TO_MMACTION)
        out[key] = value
    return out


# ------------------------------------------------------------------ loading
class LoadReport(NamedTuple):
    """What a load left out (the target's key names)."""
    missing: List[str]
    unexpected: List[str]
    mismatched: List[str]


def load_state_dict_report(module: nn.Module, state: Mapping[str, Tensor],
                           prefix: str = '', source: str = 'state dict',
                           logger: str = 'current') -> LoadReport:
    """Loads ``'mmav'``-layout ``state`` into ``module`` non-strictly, logging what did not fit.

    Args:
        module: the model (``prefix=''``) or one part of it (e.g. the visual
            encoder with ``prefix='backbone.'``: only those keys, prefix stripped).
        state: ``'mmav'``-layout state dict.
        prefix: the key prefix ``module`` corresponds to.
        source: name for the log (e.g. the file path).
        logger: mmengine logger name.
    """
    if prefix:
        state = OrderedDict((k[len(prefix):], v) for k, v in state.items()
                            if k.startswith(prefix))
    else:
        state = OrderedDict(state)
    own = module.state_dict()
    mismatched = [k for k, v in state.items()
                  if k in own and tuple(own[k].shape) != tuple(v.shape)]
    for key in mismatched:
        print_log(f'{source}: shape of {prefix}{key} is {tuple(state[key].shape)}, model has '
                  f'{tuple(own[key].shape)}; not loaded.', logger, level=30)
        state.pop(key)
    result = module.load_state_dict(state, strict=False)
    report = LoadReport(list(result.missing_keys), list(result.unexpected_keys), mismatched)
    print_log(f'Loaded {len(state) - len(report.unexpected)} tensors from {source} into '
              f'{type(module).__name__}; missing keys: {report.missing or "none"}; '
              f'unexpected keys: {report.unexpected or "none"}', logger,
              level=30 if (report.missing or report.unexpected or mismatched) else 20)
    return report


def load_pretrained(module: nn.Module, path: str, prefix: str = '',
                    logger: str = 'current') -> LoadReport:
    """Reads ``path`` (any layout, any scheme, tensors-only) into ``module``.

    Args:
        module: target (see :func:`load_state_dict_report`).
        path: checkpoint path or URL.
        prefix: ``'mmav'`` key prefix of ``module`` (``'backbone.'`` for a
            visual encoder, ``'audio_backbone.'`` for an audio encoder, ``''``
            for a whole model).
        logger: mmengine logger name.
    """
    from mmav_mask.utils.checkpoint import safe_load
    state, layout = to_mmav(unwrap_state_dict(safe_load(path, map_location='cpu')))
    print_log(f'{path}: {layout} layout', logger)
    return load_state_dict_report(module, state, prefix, source=path, logger=logger)


# --------------------------------------------- 'mmav' -> MMAction2 converters
@dataclass
class ConversionReport:
    """What a conversion kept and dropped.

    Attributes:
        layout: detected source layout (one of :data:`LAYOUTS`).
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
            lines.append(f'  dropped groups: {sorted({k.split(".")[0] for k in self.dropped})}')
        lines.extend(self.notes)
        return '\n'.join(lines)


def extract_encoder_state(state: Mapping[str, Tensor]
                          ) -> Tuple[StateDict, StateDict, List[str], str]:
    """Splits any visual layout into the ViT encoder, a classifier and the rest.

    Returns:
        (encoder, head, dropped, layout): ``encoder`` maps VideoMAE encoder
        names without prefix (``blocks.0.mlp.fc1.weight``...) to tensors;
        ``head`` maps 'weight'/'bias' of a linear classifier
        (``cls_head.fc_cls.*`` after :func:`to_mmav`) or is empty; ``dropped``
        lists the other keys (``'mmav'`` names).
    """
    mmav, layout = to_mmav(state)
    encoder: StateDict = OrderedDict()
    head: StateDict = OrderedDict()
    dropped: List[str] = []
    for key, value in mmav.items():
        if key.startswith('cls_head.fc_cls.'):
            head[key[len('cls_head.fc_cls.'):]] = value
        elif key.startswith('backbone.') and _ENCODER_KEY.match(key[len('backbone.'):]):
            encoder[key[len('backbone.'):]] = value
        else:
            dropped.append(key)
    if 'patch_embed.proj.weight' not in encoder:
        raise ValueError(f'no ViT encoder in this {layout!r} checkpoint '
                         '(no patch_embed.proj.weight)')
    return encoder, head, dropped, layout


def vit_sinusoid_table(num_positions: int, dim: int) -> Tensor:
    """MMAction2's fixed position table (1, num_positions, dim), from MMAction2 itself."""
    from mmaction.models.backbones.vit_mae import get_sinusoid_encoding
    return get_sinusoid_encoding(num_positions, dim)


def videomae_to_mmaction_vit(encoder: Mapping[str, Tensor], *, num_frames: int = 16,
                             img_size: int = 224, mean_pooling: bool = True,
                             head: Optional[Mapping[str, Tensor]] = None,
                             report: Optional[ConversionReport] = None) -> StateDict:
    """VideoMAE-named encoder -> MMAction2 ``Recognizer3D`` state dict.

    Args:
        encoder: VideoMAE encoder names without prefix -> tensors.
        num_frames: clip length T of the target model; with ``img_size`` it
            fixes the length of the written pos_embed
            ((T / tubelet) * (img_size / patch)^2 tokens).
        img_size: input side of the target model.
        mean_pooling: target ``use_mean_pooling=True`` (MMAction2's default and
            VideoMAE fine-tuning): the final ``norm`` initialises ``fc_norm``
            (a source ``fc_norm`` wins); with False it stays ``norm``.
        head: optional classifier 'weight'/'bias' written as ``cls_head.fc_cls.*``.
        report: filled in place when given.

    Returns:
        State dict with ``backbone.*`` (and ``cls_head.fc_cls.*``) keys.
    """
    out: StateDict = OrderedDict()
    has_fc_norm = any(k.startswith('fc_norm.') for k in encoder)
    for name, value in encoder.items():
        if name.startswith('norm.'):
            if mean_pooling:
                if has_fc_norm:
                    continue  # fine-tuned source: its own fc_norm is the right one
                name = 'fc_norm.' + name[len('norm.'):]
        elif name.startswith('fc_norm.') and not mean_pooling:
            continue  # no fc_norm in the target; the token norm is kept instead
        out['backbone.' + _rename(name, VIDEOMAE_TO_MMACTION)] = value.clone()
    num_copied = len(out)
    # MMAction2 keeps pos_embed in its state dict (a persistent buffer); VideoMAE
    # does not store it: write the fixed table for the target length.
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
                    f'source pos_embed has {source_pos.shape[1]} positions; replaced by the '
                    f'fixed sinusoid table for {num_positions} ({num_frames} frames, '
                    f'{img_size}px)')
    for key, value in (head or {}).items():
        out['cls_head.fc_cls.' + key] = value.clone()
    if report is not None:
        report.converted = num_copied + len(head or {})
        if mean_pooling and not has_fc_norm and 'norm.weight' in encoder:
            report.notes.append('final encoder norm -> backbone.fc_norm '
                                '(mean pooling, VideoMAE fine-tuning layout)')
    return out


def convert_checkpoint(checkpoint: Mapping[str, Any], *, num_frames: int = 16,
                       img_size: int = 224, mean_pooling: bool = True,
                       keep_head: bool = True) -> Tuple[Dict[str, Any], ConversionReport]:
    """A loaded checkpoint (``'mmav'``/``'videomae*'``) -> MMAction2 ViT checkpoint.

    Returns:
        (``{'state_dict': ..., 'meta': {...}}`` with tensors and plain values
        only, report).
    """
    state = unwrap_state_dict(checkpoint)
    if detect_layout(state) == 'mmaction_vit':
        raise ValueError('the checkpoint is already in MMAction2 VisionTransformer layout')
    encoder, head, dropped, layout = extract_encoder_state(state)
    report = ConversionReport(layout=layout, dropped=dropped)
    converted = videomae_to_mmaction_vit(encoder, num_frames=num_frames, img_size=img_size,
                                         mean_pooling=mean_pooling,
                                         head=head if keep_head else None, report=report)
    meta = dict(converted_by='mmav_mask.models.checkpoint_layouts', source_layout=layout,
                num_frames=num_frames, img_size=img_size, mean_pooling=mean_pooling)
    return dict(state_dict=converted, meta=meta), report


def infer_vit_kwargs(state: Mapping[str, Tensor], *, num_frames: int = 16,
                     img_size: int = 224, mean_pooling: bool = True) -> Dict[str, Any]:
    """MMAction2 ``VisionTransformer`` arguments of a converted state dict (not ``num_heads``)."""
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
    """(missing, unexpected) ``backbone.*`` keys when loading into a fresh MMAction2 ViT."""
    from mmaction.models.backbones.vit_mae import VisionTransformer
    model = VisionTransformer(num_heads=1, init_cfg=None, **infer_vit_kwargs(state, **kwargs))
    backbone = {k[len('backbone.'):]: v for k, v in state.items() if k.startswith('backbone.')}
    result = model.load_state_dict(backbone, strict=False)
    return list(result.missing_keys), list(result.unexpected_keys)


def extract_audio_backbone(checkpoint: Mapping[str, Any], *, keep_proj: bool = False
                           ) -> Tuple[Dict[str, Any], int]:
    """Audio encoder of a checkpoint (``'mmav'`` or ``'talknet'``) for ``RecognizerAudio``.

    ``audio_backbone.*`` -> ``backbone.*``; the projection ``proj`` (absent in
    ``out_type='feature_map'``) is dropped unless ``keep_proj``.

    Raises:
        ValueError: no audio encoder weights in the checkpoint.
    """
    mmav, layout = to_mmav(unwrap_state_dict(checkpoint))
    out: StateDict = OrderedDict()
    for key, value in mmav.items():
        if key.startswith('audio_backbone.'):
            name = key[len('audio_backbone.'):]
            if name.startswith('proj.') and not keep_proj:
                continue
            out['backbone.' + name] = value.clone()
    if not out:
        raise ValueError(f'no audio encoder weights (audio_backbone.* / model.audioEncoder.*) '
                         f'in this {layout!r} checkpoint')
    return dict(state_dict=out, meta=dict(converted_by='mmav_mask.models.checkpoint_layouts',
                                          source_layout=layout)), len(out)


__all__ = ['LAYOUTS', 'WRAPPER_KEYS', 'FILTERS', 'ConversionReport', 'LoadReport',
           'RECOGNIZER_FC_NORM_RULES', 'RECOGNIZER_KEY_RULES', 'TWO_STREAM_KEY_RULES',
           'MMACTION_TO_VIDEOMAE',
           'VIDEOMAE_TO_MMACTION', 'check_mmaction_loadable', 'convert_checkpoint',
           'detect_layout', 'extract_audio_backbone', 'extract_encoder_state',
           'filter_avmae', 'filter_mavil', 'filter_mmaction_vit', 'filter_talknet', 'filter_videomae', 'infer_vit_kwargs',
           'load_pretrained', 'load_state_dict_report', 'mmav_backbone_to_mmaction',
           'rename_by_prefix', 'to_mmav', 'unwrap_state_dict', 'videomae_to_mmaction_vit',
           'vit_sinusoid_table']
