"""Building sub-modules that may be given as configs or as modules."""
from typing import Optional, Union

from mmaction.registry import MODELS
from torch import nn

ConfigType = Union[dict, nn.Module]


def build_optional(cfg: Optional[ConfigType]) -> Optional[nn.Module]:
    """Builds ``cfg`` from MODELS; passes modules and None through."""
    if cfg is None or isinstance(cfg, nn.Module):
        return cfg
    return MODELS.build(cfg)
