"""A Runner that makes the machine-dependent choices at run time, not in configs.

Configs are parsed identically on every machine (the dumped config is the same on
a laptop and a GPU node); what depends on the hardware is decided here, when the
run starts, and logged:

* the process-group backend: the config's ``env_cfg.dist_cfg.backend`` (``nccl``
  by default), replaced by ``gloo`` when this machine has no CUDA (CPU runs of
  ``tools/dist_train.sh``);
* mixed precision: a config that asks for ``AmpOptimWrapper`` (or ``--amp``)
  trains in fp32 with ``OptimWrapper`` where mmengine's AMP wrapper cannot run
  (no CUDA / NPU / MLU / MUSA device), instead of failing in its constructor;
* CPU-only distributed runs (``--launcher pytorch`` without CUDA): the gloo
  process group is started here, because mmengine's ``init_dist`` calls
  ``torch.cuda.set_device``, and DDP gets ``device_ids=None`` instead of
  ``[LOCAL_RANK]``, which DDP refuses for a CPU module. Nothing is patched.

Configs select it with ``runner_type = 'MMAVRunner'`` (``_base_/default_runtime.py``),
which both ``tools/train.py`` and MMAction2's own ``tools/train.py`` honour.
"""
from __future__ import annotations

import copy
import logging
import os
from typing import Dict

import torch
import torch.distributed as torch_dist
from mmaction.registry import RUNNERS
from mmengine.device import is_cuda_available, is_mlu_available, is_musa_available, is_npu_available
from mmengine.logging import print_log
from mmengine.runner import Runner

_AMP_ONLY_KEYS = ('loss_scale', 'dtype', 'use_fsdp')


def amp_available() -> bool:
    """True where mmengine's ``AmpOptimWrapper`` can be built."""
    return (is_cuda_available() or is_npu_available() or is_mlu_available()
            or is_musa_available())


def runtime_dist_cfg(dist_cfg: Dict) -> Dict:
    """The config's ``dist_cfg`` with the backend this machine can use.

    Args:
        dist_cfg: ``env_cfg.dist_cfg`` of the config, e.g. ``dict(backend='nccl')``.

    Returns:
        A copy; ``backend='nccl'`` becomes ``'gloo'`` without CUDA (NCCL needs GPUs).
    """
    dist_cfg = dict(dist_cfg or {})
    if dist_cfg.get('backend', 'nccl') == 'nccl' and not torch.cuda.is_available():
        dist_cfg['backend'] = 'gloo'
    return dist_cfg


def runtime_optim_wrapper(optim_wrapper):
    """``optim_wrapper`` with AMP dropped where this machine cannot run it."""
    if (not isinstance(optim_wrapper, dict)
            or optim_wrapper.get('type') != 'AmpOptimWrapper' or amp_available()):
        return optim_wrapper
    optim_wrapper = copy.deepcopy(optim_wrapper)
    optim_wrapper['type'] = 'OptimWrapper'
    for key in _AMP_ONLY_KEYS:
        optim_wrapper.pop(key, None)
    return optim_wrapper


@RUNNERS.register_module()
class MMAVRunner(Runner):
    """mmengine's Runner with the backend and AMP chosen for the machine at run time."""

    def setup_env(self, env_cfg: Dict) -> None:
        env_cfg = dict(env_cfg)
        if self.distributed:
            chosen = runtime_dist_cfg(env_cfg.get('dist_cfg', {}))
            if chosen != dict(env_cfg.get('dist_cfg') or {}):
                print_log(f'no CUDA: distributed backend {chosen["backend"]!r} instead of '
                          f'{env_cfg.get("dist_cfg", {}).get("backend", "nccl")!r}',
                          logger='current', level=logging.WARNING)
            env_cfg['dist_cfg'] = chosen
            if (not torch.cuda.is_available() and self.launcher == 'pytorch'
                    and not torch_dist.is_initialized()):
                # mmengine then skips init_dist (and its torch.cuda.set_device)
                torch_dist.init_process_group(
                    backend=chosen.get('backend', 'gloo'), rank=int(os.environ['RANK']),
                    world_size=int(os.environ['WORLD_SIZE']),
                    **{k: v for k, v in chosen.items() if k != 'backend'})
        super().setup_env(env_cfg)

    def wrap_model(self, model_wrapper_cfg, model):
        if self.distributed and not torch.cuda.is_available():
            # a CPU module: DDP needs device_ids=None, mmengine passes [LOCAL_RANK]
            model_wrapper_cfg = dict(model_wrapper_cfg or dict(
                type='MMDistributedDataParallel', broadcast_buffers=False,
                find_unused_parameters=self.cfg.get('find_unused_parameters', False)))
            if model_wrapper_cfg.setdefault('type', 'MMDistributedDataParallel') == \
                    'MMDistributedDataParallel':
                model_wrapper_cfg.setdefault('device_ids', None)
        return super().wrap_model(model_wrapper_cfg, model)

    def build_optim_wrapper(self, optim_wrapper):
        chosen = runtime_optim_wrapper(optim_wrapper)
        if chosen is not optim_wrapper:
            self.logger.warning('AmpOptimWrapper needs a CUDA/NPU/MLU/MUSA device; '
                                'training in fp32 with OptimWrapper on this machine')
        return super().build_optim_wrapper(chosen)
