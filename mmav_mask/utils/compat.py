"""Environment fixes for the pinned stack (torch 2.14, mmengine 0.10.7, mmaction2 1.2).

Imported first by :mod:`mmav_mask`; every patch is idempotent and narrow:

a. The PyPI mmaction2 1.2.0 wheel lacks ``mmaction/models/localizers/drn``
   (upstream issue 2714), so ``import mmaction.models`` fails. A placeholder
   ``DRN`` that raises on use is inserted only when the package is missing.
b. ``mmaction.models.multimodal`` needs ``importlib-metadata`` (a pinned
   requirement); a clear error is raised when it is absent.
c. mmengine's local checkpoint loader and writer are routed through
   :mod:`mmav_mask.utils.checkpoint` (weights-only loading with a trust policy
   for our own files, atomic writes). Nothing sets weights_only off globally.
   ``CheckpointHook`` removes the checkpoint that falls out of
   ``max_keep_ckpts`` only after the new one and the ``last_checkpoint``
   pointer (written atomically) are on disk (upstream removes it first, so a
   kill during the save could leave the pointer naming a deleted file), and
   ``find_latest_checkpoint`` falls back to the newest complete checkpoint.
d. CPU-only distributed runs: mmengine calls ``torch.cuda.set_device`` and
   wraps DDP with ``device_ids=[LOCAL_RANK]`` unconditionally; without CUDA we
   skip the former, use gloo instead of nccl and pass ``device_ids=None``.
"""
from __future__ import annotations

import functools
import importlib.util
import sys
import types

import torch

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


def _route_checkpoints() -> None:
    from mmengine.runner import checkpoint as ckpt_mod
    from mmengine.runner import runner as runner_mod

    from .checkpoint import (find_latest_checkpoint, load_checkpoint_file,
                             save_trusted_checkpoint)

    def load_from_local(filename, map_location):
        return load_checkpoint_file(filename, map_location)

    load_from_local.__name__ = 'load_from_local'  # mmengine logs name[10:]
    ckpt_mod.CheckpointLoader._schemes[''] = load_from_local
    ckpt_mod.load_from_local = load_from_local

    original_save = ckpt_mod.save_checkpoint

    @functools.wraps(original_save)
    def save_checkpoint(checkpoint, filename, file_client_args=None, backend_args=None):
        remote = '://' in str(filename) or file_client_args or backend_args
        if remote:
            return original_save(checkpoint, filename, file_client_args, backend_args)
        save_trusted_checkpoint(checkpoint, str(filename))

    ckpt_mod.save_checkpoint = save_checkpoint
    runner_mod.save_checkpoint = save_checkpoint
    ckpt_mod.find_latest_checkpoint = find_latest_checkpoint
    runner_mod.find_latest_checkpoint = find_latest_checkpoint
    _safe_checkpoint_rotation()


def _safe_checkpoint_rotation() -> None:
    import os.path as osp

    from mmengine.dist import is_main_process
    from mmengine.hooks import checkpoint_hook as hook_mod

    from .checkpoint import TRUST_SUFFIX, atomic_write_text

    def _save_checkpoint_with_step(self, runner, step, meta):
        outdated = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids
                                            and self.keep_ckpt_ids[-1] == step):
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                outdated.append(self.keep_ckpt_ids.popleft())
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir, ckpt_filename, self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler, meta=meta,
            by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        if not is_main_process():
            return
        atomic_write_text(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        for old_step in outdated:  # only now that the new one is complete
            old = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(old_step))
            if self.file_backend.isfile(old):
                self.file_backend.remove(old)
                if self.file_backend.isfile(old + TRUST_SUFFIX):
                    self.file_backend.remove(old + TRUST_SUFFIX)
            elif self.file_backend.isdir(old):  # deepspeed-style directories
                self.file_backend.rmtree(old)

    _save_checkpoint_with_step.upstream = hook_mod.CheckpointHook._save_checkpoint_with_step
    hook_mod.CheckpointHook._save_checkpoint_with_step = _save_checkpoint_with_step


def _cpu_distributed() -> None:
    from mmengine.dist import utils as dist_utils
    from mmengine.model.wrappers import distributed as ddp_mod

    def cpu_safe(init_fn):
        @functools.wraps(init_fn)
        def wrapper(backend, *args, **kwargs):
            if torch.cuda.is_available():
                return init_fn(backend, *args, **kwargs)
            set_device = torch.cuda.set_device
            torch.cuda.set_device = lambda *a, **k: None
            try:
                return init_fn('gloo' if backend == 'nccl' else backend, *args, **kwargs)
            finally:
                torch.cuda.set_device = set_device
        return wrapper

    dist_utils._init_dist_pytorch = cpu_safe(dist_utils._init_dist_pytorch)
    dist_utils._init_dist_slurm = cpu_safe(dist_utils._init_dist_slurm)

    original_init = ddp_mod.MMDistributedDataParallel.__init__

    @functools.wraps(original_init)
    def ddp_init(self, module, detect_anomalous_params=False, **kwargs):
        if not torch.cuda.is_available():
            kwargs['device_ids'] = None
        original_init(self, module, detect_anomalous_params=detect_anomalous_params, **kwargs)

    ddp_mod.MMDistributedDataParallel.__init__ = ddp_init


def apply() -> None:
    """Applies all fixes once per process."""
    global _APPLIED
    if _APPLIED:
        return
    _provide_missing_drn()
    _check_importlib_metadata()
    _route_checkpoints()
    _cpu_distributed()
    _APPLIED = True
