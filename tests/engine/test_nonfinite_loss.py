"""NonFiniteLossHook: stop naming the iteration, or skip the step and count it."""

import os
from functools import partial

import pytest
import torch
from mmengine.runner import Runner

from _toy import LossRecorder, ToyModel, toy_runner_cfg
from mmav_mask.engine import NonFiniteLossError, NonFiniteLossHook


def _runner(tmp_path, hook, poison, max_iters=4):
    torch.manual_seed(0)
    model = ToyModel(p=0.0)
    model.poison_iters = set(poison)
    recorder = LossRecorder()
    runner = Runner(**toy_runner_cfg(str(tmp_path), max_iters, ckpt_interval=100,
                                     custom_hooks=[hook, recorder.hook], model=model))
    return runner, model, recorder


@pytest.mark.parametrize('check_interval', [None, 1])
def test_stop_names_the_iteration(tmp_path, check_interval):
    hook = dict(type='NonFiniteLossHook', check_interval=check_interval)
    runner, model, _ = _runner(tmp_path, hook, poison=[2])
    with pytest.raises(NonFiniteLossError) as err:
        runner.train()
    msg = str(err.value)
    assert 'iteration 3 ' in msg and 'loss=nan' in msg and "action='skip'" in msg
    assert runner.iter == 2
    finite = all(torch.isfinite(p).all() for p in model.parameters())
    if check_interval == 1:  # checked before the step: the weights never saw it
        assert 'before its optimizer step' in msg and finite
    else:  # checked after the step, with no extra host sync
        assert 'after its optimizer step' in msg and not finite


def test_stop_after_step_writes_no_checkpoint_of_the_bad_iteration(tmp_path):
    """Default mode: the run stops before CheckpointHook saves iteration 2."""
    torch.manual_seed(0)
    model = ToyModel(p=0.0)
    model.poison_iters = {1}
    runner = Runner(**toy_runner_cfg(str(tmp_path), 4, ckpt_interval=1,
                                     custom_hooks=[dict(type='NonFiniteLossHook')],
                                     model=model))
    with pytest.raises(NonFiniteLossError, match='iteration 2 '):
        runner.train()
    assert sorted(n for n in os.listdir(tmp_path) if n.endswith('.pth')) == ['iter_1.pth']


def _host_syncs_between_forward_and_step(tmp_path, monkeypatch, hooks):
    """Counts Tensor.item() calls after the loss is computed and before the
    optimizer step (a host sync there stalls the device pipeline)."""
    torch.manual_seed(0)
    model = ToyModel(p=0.0)
    window = dict(open=False, syncs=0)
    parse_losses = model.parse_losses

    def opening_parse_losses(losses):
        out = parse_losses(losses)
        window['open'] = True
        return out

    model.parse_losses = opening_parse_losses
    real_item, real_step = torch.Tensor.item, torch.optim.AdamW.step

    def counting_item(self):
        window['syncs'] += window['open']
        return real_item(self)

    def closing_step(self, *args, **kwargs):
        window['open'] = False
        return real_step(self, *args, **kwargs)

    monkeypatch.setattr(torch.Tensor, 'item', counting_item)
    monkeypatch.setattr(torch.optim.AdamW, 'step', closing_step)
    Runner(**toy_runner_cfg(str(tmp_path), 4, ckpt_interval=100, custom_hooks=hooks,
                            model=model)).train()
    return window['syncs']


def test_no_host_sync_per_step_unless_asked(tmp_path, monkeypatch):
    count = partial(_host_syncs_between_forward_and_step, monkeypatch=monkeypatch)
    assert count(tmp_path / 'none', hooks=[]) == 0
    assert count(tmp_path / 'default', hooks=[dict(type='NonFiniteLossHook')]) == 0
    assert count(tmp_path / 'every', hooks=[dict(type='NonFiniteLossHook',
                                                   check_interval=1)]) == 4
    assert count(tmp_path / 'every2', hooks=[dict(type='NonFiniteLossHook',
                                                    check_interval=2)]) == 2


def test_skip_leaves_weights_untouched_and_counts(tmp_path):
    hook = NonFiniteLossHook(action='skip')
    runner, model, recorder = _runner(tmp_path, hook, poison=[1, 2])
    snapshots = {}

    from mmengine.hooks import Hook

    class Snap(Hook):
        def before_train_iter(self, runner, batch_idx, data_batch=None):
            snapshots[runner.iter + 1] = [p.detach().clone() for p in model.parameters()]

    runner.register_hook(Snap())
    runner.train()
    assert hook.num_skipped == 2 and hook.skipped_iters == [2, 3]
    # the skipped steps did not move the weights (2 -> 3 -> 4), the good ones did
    for a, b in zip(snapshots[2], snapshots[4]):
        assert torch.equal(a, b)
    assert any(not torch.equal(a, b) for a, b in zip(snapshots[1], snapshots[2]))
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert runner.message_hub.get_scalar('train/nonfinite_skipped').current() == 2
    assert torch.isnan(torch.tensor(recorder.losses[2]))


def test_skip_limit(tmp_path):
    runner, _, _ = _runner(tmp_path, dict(type='NonFiniteLossHook', action='skip', max_skips=1),
                           poison=[0, 1])
    with pytest.raises(NonFiniteLossError, match='max_skips=1'):
        runner.train()


def test_without_the_hook_nan_reaches_the_weights(tmp_path):
    """Control for the tests above: the poisoned loss does corrupt the model."""
    runner, model, _ = _runner(tmp_path, dict(type='EmptyCacheHook'), poison=[1])
    runner.train()
    assert not all(torch.isfinite(p).all() for p in model.parameters())


def test_bad_arguments():
    with pytest.raises(ValueError):
        NonFiniteLossHook(action='ignore')
    with pytest.raises(ValueError, match='check_interval'):
        NonFiniteLossHook(check_interval=0)
    assert NonFiniteLossHook(action='skip').check_interval == 1  # skipping checks first
