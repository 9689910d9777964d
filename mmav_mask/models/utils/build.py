"""Building sub-modules that may be given as configs or as modules."""
from typing import Optional, Tuple, Union

from mmaction.registry import MODELS
from torch import nn

ConfigType = Union[dict, nn.Module]


def build_optional(cfg: Optional[ConfigType]) -> Optional[nn.Module]:
    """Builds ``cfg`` from MODELS; passes modules and None through."""
    if cfg is None or isinstance(cfg, nn.Module):
        return cfg
    return MODELS.build(cfg)


def build_data_preprocessor(cfg: Optional[ConfigType]) -> Tuple[Optional[nn.Module], dict]:
    """Builds a data preprocessor config; returns ``(module or cfg as given, its config)``.

    The config (``{}`` when a module or None was given) is kept because its
    ``mean``/``std`` also describe the pixel target (see :func:`pixel_head_cfg`).
    """
    if isinstance(cfg, dict):
        return MODELS.build(cfg), cfg
    return cfg, {}


def pixel_head_cfg(head: ConfigType, geometry: dict, preproc_cfg: dict) -> ConfigType:
    """A pixel head config completed with the ViT's ``geometry`` (patch size,
    tubelet size, channels) and the preprocessor's ``mean``/``std``, which map
    predictions back to pixels; explicit keys in ``head`` win. Modules pass through."""
    if not isinstance(head, dict):
        return head
    head = {**geometry, **head}
    if 'mean' not in head and preproc_cfg.get('mean') is not None:
        head['mean'], head['std'] = preproc_cfg['mean'], preproc_cfg['std']
    return head
