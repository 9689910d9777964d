"""Official VideoMAE checkpoints -> this plugin's parameter names.

Official pretraining files (MCG-NJU/VideoMAE) hold ``{'model': state_dict}``
with ``encoder.*``, ``decoder.*``, ``encoder_to_decoder.weight`` and
``mask_token``; the sinusoid ``pos_embed`` tables are fixed and not stored.
Our :class:`AVMaskEnhancer` names the same tensors ``backbone.*``,
``decoder.*``, ``fusion.encoder_to_decoder.weight`` and ``mask_token``. Files
are read only through :func:`mmav_mask.utils.load_external_weights`
(``weights_only=True``): a foreign file can never run code.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Dict, List, Mapping, NamedTuple, Optional

from mmengine.logging import print_log
from torch import Tensor, nn

from mmav_mask.utils import safe_load as load_external_weights

# Official prefix -> ours, longest match first.
_PREFIX_MAP = (
    ('encoder_to_decoder.', 'fusion.encoder_to_decoder.'),
    ('encoder.', 'backbone.'),
    ('decoder.', 'decoder.'),
)
# Fixed sinusoid tables: recomputed, never loaded (a stored copy is dropped).
_DROPPED = ('pos_embed', 'encoder.pos_embed', 'decoder.pos_embed')
# Keys of the fine-tuning layout (no ``encoder.`` prefix) that belong to the encoder.
_FINETUNE_ENCODER_PREFIXES = ('patch_embed.', 'blocks.', 'norm.')


class LoadReport(NamedTuple):
    """What a checkpoint load left out (lists of our key names)."""
    missing: List[str]
    unexpected: List[str]
    mismatched: List[str]


def unwrap_state_dict(checkpoint: Any) -> Dict[str, Tensor]:
    """Returns the state dict inside a checkpoint object.

    Accepts a bare state dict or one under ``'model'`` (VideoMAE),
    ``'module'`` or ``'state_dict'`` (mmengine); strips a DDP ``module.`` prefix.
    """
    if not isinstance(checkpoint, Mapping):
        raise TypeError(f'Expected a checkpoint dict, got {type(checkpoint).__name__}.')
    for key in ('model', 'module', 'state_dict'):
        if key in checkpoint and isinstance(checkpoint[key], Mapping):
            checkpoint = checkpoint[key]
            break
    out = OrderedDict()
    for k, v in checkpoint.items():
        out[k[len('module.'):] if k.startswith('module.') else k] = v
    return out


def is_converted(state_dict: Mapping[str, Any]) -> bool:
    """True when keys already use our layout (``backbone.*`` ...)."""
    return any(k.startswith(('backbone.', 'fusion.')) for k in state_dict)


def convert_videomae_state_dict(state_dict: Mapping[str, Tensor]) -> 'OrderedDict[str, Tensor]':
    """Renames an official VideoMAE state dict to :class:`AVMaskEnhancer` keys.

    Mapping (official -> ours):
        ``encoder.X`` -> ``backbone.X`` (``patch_embed.proj``, ``blocks.N.*``, ``norm``);
        ``decoder.X`` -> ``decoder.X`` (``blocks.N.*``, ``norm``, ``head``);
        ``encoder_to_decoder.weight`` -> ``fusion.encoder_to_decoder.weight``;
        ``mask_token`` -> ``mask_token``; stored ``pos_embed`` tables are dropped.
    A fine-tuning file (encoder keys without prefix) maps ``patch_embed``,
    ``blocks`` and ``norm`` to ``backbone.*``; its ``fc_norm``/``head`` are
    kept unchanged and so reported as unexpected. Already converted dicts pass
    through unchanged.

    Args:
        state_dict: official (or converted) state dict.

    Returns:
        New ordered dict with our key names.
    """
    state_dict = unwrap_state_dict(state_dict)
    if is_converted(state_dict):
        return OrderedDict(state_dict)
    pretrain_layout = any(k.startswith('encoder.') for k in state_dict)
    out = OrderedDict()
    for key, value in state_dict.items():
        if key in _DROPPED:
            continue
        new_key = key
        if pretrain_layout:
            for old, new in _PREFIX_MAP:
                if key.startswith(old):
                    new_key = new + key[len(old):]
                    break
        elif key.startswith(_FINETUNE_ENCODER_PREFIXES):
            new_key = 'backbone.' + key
        out[new_key] = value
    return out


def load_videomae_state_dict(module: nn.Module, state_dict: Mapping[str, Tensor],
                             prefix: str = '', source: str = 'state dict',
                             logger: str = 'current') -> LoadReport:
    """Loads a converted state dict into ``module``, logging what did not fit.

    Args:
        module: the model (``prefix=''``) or one part of it (e.g. the backbone
            with ``prefix='backbone.'``: only those keys, prefix stripped).
        state_dict: official or converted state dict.
        prefix: our key prefix that ``module`` corresponds to.
        source: name used in the log (e.g. the file path).
        logger: mmengine logger name.

    Returns:
        :class:`LoadReport` with missing, unexpected and shape-mismatched keys.
    """
    converted = convert_videomae_state_dict(state_dict)
    if prefix:
        converted = OrderedDict((k[len(prefix):], v) for k, v in converted.items()
                                if k.startswith(prefix))
    own = module.state_dict()
    mismatched = [k for k, v in converted.items()
                  if k in own and tuple(own[k].shape) != tuple(v.shape)]
    for k in mismatched:
        print_log(f'{source}: shape of {prefix}{k} is {tuple(converted[k].shape)}, '
                  f'model has {tuple(own[k].shape)}; not loaded.', logger, level=30)
        converted.pop(k)
    result = module.load_state_dict(converted, strict=False)
    report = LoadReport(list(result.missing_keys), list(result.unexpected_keys), mismatched)
    print_log(f'Loaded VideoMAE weights from {source} into {type(module).__name__}: '
              f'{len(converted) - len(report.unexpected)} tensors; '
              f'missing keys: {report.missing or "none"}; '
              f'unexpected keys: {report.unexpected or "none"}', logger,
              level=30 if (report.missing or report.unexpected or mismatched) else 20)
    return report


def load_videomae_checkpoint(module: nn.Module, path: str, prefix: str = '',
                             logger: str = 'current') -> LoadReport:
    """Reads ``path`` tensors-only and loads it into ``module``.

    Args:
        module: target module (see :func:`load_videomae_state_dict`).
        path: official VideoMAE ``.pth`` or a file written by
            ``tools/convert/videomae_to_mmav.py``.
        prefix: our key prefix that ``module`` corresponds to.
        logger: mmengine logger name.
    """
    checkpoint = load_external_weights(path, map_location='cpu')
    return load_videomae_state_dict(module, checkpoint, prefix, source=path, logger=logger)


__all__ = ['LoadReport', 'unwrap_state_dict', 'is_converted', 'convert_videomae_state_dict',
           'load_videomae_state_dict', 'load_videomae_checkpoint']
