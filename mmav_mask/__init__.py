"""mmav-mask: audio-visual masked video pretraining for MMAction2.

Importing the package applies the environment fixes first, then registers
every component in MMAction2's registries (``mmaction.registry``), so a config
with ``custom_imports = dict(imports=['mmav_mask'])`` can use them.
"""
from .utils import compat as _compat

_compat.apply()

from . import datasets, engine, evaluation, models  # noqa: E402,F401  (registration)
from .version import __version__  # noqa: E402

__all__ = ['__version__']
