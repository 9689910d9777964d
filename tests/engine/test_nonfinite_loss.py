"""NonFiniteLossHook: stop naming the iteration, or skip the step and count it."""

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


def test_stop_names_the_iteration(tmp_path):
    runner, model, _ = _runner(tmp_path, dict(type='NonFiniteLossHook'), poison=[2])

    with pytest.raises(NonFiniteLossError) as err:
        runner.train()
    msg = str(err.value)
    assert 'iteration 3 ' in msg and 'loss=nan' in msg and "action='skip'" in msg
    assert runner.iter == 2
    assert all(torch.isfinite(p).all() for p in model.parameters())


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


def test_bad_action():
    with pytest.raises(ValueError):
        NonFiniteLossHook(action='ignore')
