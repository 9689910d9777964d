"""Environment fixes for the pinned stack (torch 2.14, mmengine 0.10.7, mmaction2 1.2).

Imported first by :mod:`mmav_mask`; only these documented breakages are handled
at import (idempotent):

a. The PyPI mmaction2 1.2.0 wheel lacks ``mmaction/models/localizers/drn``
   (upstream issue 2714), so ``import mmaction.models`` fails. A placeholder
   ``DRN`` that raises on use is inserted only when the package is missing.
b. ``mmaction.models.multimodal`` needs ``importlib-metadata`` (a pinned
   requirement); a clear error is raised when it is absent.
c. torch >= 2.6 refuses mmengine's runner checkpoints with weights_only=True
   and mmengine loads URLs with weights_only=False. The safe loaders of
   :mod:`mmav_mask.utils.checkpoint` (weights-only with a scoped allowlist)
   are registered for every scheme through mmengine's public
   ``CheckpointLoader.register_scheme(..., force=True)``: no private
   attribute is touched and nothing sets weights_only off.

Not handled here, and not by patching mmengine: CPU-only distributed runs
(``MMAVRunner``, the configs' ``runner_type``) and atomic checkpoint writes
(the registered ``AtomicCheckpointHook`` that the configs name).
"""
from __future__ import annotations

import importlib.util
import sys
import types

_APPLIED = False


def _provide_missing_drn() -> None:
    spec = importlib.util.find_spec('mmaction')
    if spec is None or not spec.submodule_search_locations:
        return
    import os.path as osp
    root = list(spec.submodule_search_locations)[0]
    if osp.isdir(osp.join(root, 'models', 'localizers', 'drn')):
        return

    class DRN:  # noqa: D401 - placeholder
        """Placeholder for the DRN localizer missing from the mmaction2 wheel."""

        def __init__(self, *args, **kwargs):
            raise ImportError('DRN is missing from the mmaction2 1.2.0 wheel '
                              '(mmaction2 issue 2714); install mmaction2 from source to use it.')

    pkg = types.ModuleType('mmaction.models.localizers.drn')
    pkg.__path__ = []  # mark as package
    mod = types.ModuleType('mmaction.models.localizers.drn.drn')
    mod.DRN = DRN
    pkg.drn = mod
    sys.modules.setdefault('mmaction.models.localizers.drn', pkg)
    sys.modules.setdefault('mmaction.models.localizers.drn.drn', mod)


def _check_importlib_metadata() -> None:
    if importlib.util.find_spec('importlib_metadata') is None:
        raise ImportError('mmaction.models.multimodal needs the "importlib-metadata" '
                          'package: pip install importlib-metadata')


def apply() -> None:
    """Applies all fixes once per process."""
    global _APPLIED
    if _APPLIED:
        return
    _provide_missing_drn()
    _check_importlib_metadata()
    from .checkpoint import register_safe_loaders
    register_safe_loaders()
    _APPLIED = True
