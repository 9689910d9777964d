"""MMAVRunner makes the machine-dependent choices at run time: the dist backend
(nccl -> gloo without CUDA) and AMP (fp32 where mmengine's AmpOptimWrapper cannot run)."""
import pytest
import torch
from mmengine.optim import AmpOptimWrapper, OptimWrapper
from mmengine.runner import Runner

import mmav_mask.engine.runner as runner_mod
from mmav_mask.engine.runner import MMAVRunner, runtime_dist_cfg, runtime_optim_wrapper

from _toy import ToyModel


@pytest.mark.parametrize('cuda,backend,expected', [
    (False, 'nccl', 'gloo'), (True, 'nccl', 'nccl'), (False, 'gloo', 'gloo'),
    (False, None, 'gloo')])
def test_backend_is_chosen_for_the_machine(monkeypatch, cuda, backend, expected):
    monkeypatch.setattr(torch.cuda, 'is_available', lambda: cuda)
    cfg = {} if backend is None else dict(backend=backend, timeout=60)
    chosen = runtime_dist_cfg(cfg)
    assert chosen['backend'] == expected
    assert chosen.get('timeout') == cfg.get('timeout')
    assert cfg.get('backend') == backend  # the config itself is left as it was


def test_amp_wrapper_falls_back_only_without_a_device(monkeypatch):
    amp = dict(type='AmpOptimWrapper', loss_scale='dynamic', dtype='float16',
               optimizer=dict(type='SGD', lr=0.1))
    monkeypatch.setattr(runner_mod, 'amp_available', lambda: True)
    assert runtime_optim_wrapper(amp) is amp
    monkeypatch.setattr(runner_mod, 'amp_available', lambda: False)
    plain = runtime_optim_wrapper(amp)
    assert plain == dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))
    assert amp['type'] == 'AmpOptimWrapper'  # not modified in place
    other = dict(type='OptimWrapper', optimizer=dict(type='SGD', lr=0.1))
    assert runtime_optim_wrapper(other) is other


@pytest.mark.skipif(torch.cuda.is_available(), reason='the fallback is for CPU-only machines')
def test_runner_trains_an_amp_config_in_fp32_on_cpu(tmp_path):
    amp = dict(type='AmpOptimWrapper', optimizer=dict(type='SGD', lr=0.1))
    plain_runner = Runner(model=ToyModel(), work_dir=str(tmp_path / 'plain'))
    with pytest.raises(AssertionError, match='only available'):
        plain_runner.build_optim_wrapper(amp)  # what mmengine's Runner does on CPU
    runner = MMAVRunner(model=ToyModel(), work_dir=str(tmp_path / 'ours'))
    wrapper = runner.build_optim_wrapper(amp)
    assert type(wrapper) is OptimWrapper and not isinstance(wrapper, AmpOptimWrapper)
    assert wrapper.optimizer.defaults['lr'] == 0.1
