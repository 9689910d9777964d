"""The performance switches a config can turn on work with our model:
activation checkpointing (``with_cp``), bf16 autocast (what AmpOptimWrapper
does on CUDA) and torch.compile through mmengine's ``compile`` key."""
import copy

import torch
from mmaction.registry import MODELS
from mmengine.runner import Runner

from _toy import LossRecorder, toy_runner_cfg
from test_dist_parity import TINY_AV, _batch, _step


def _build(cfg):
    torch.manual_seed(0)
    return MODELS.build(copy.deepcopy(cfg))


def test_with_cp_same_loss_and_gradients(monkeypatch):
    cfg = copy.deepcopy(TINY_AV)
    ref_loss, ref_grads = _step(_build(cfg), _batch(4))
    cfg['backbone']['with_cp'] = True
    cfg['decoder'] = dict(cfg['decoder'], with_cp=True)
    import torch.utils.checkpoint as cp
    calls = []
    real = cp.checkpoint
    monkeypatch.setattr(cp, 'checkpoint', lambda *a, **k: calls.append(1) or real(*a, **k))
    loss, grads = _step(_build(cfg), _batch(4))
    assert len(calls) == 3  # 2 encoder blocks + 1 decoder block
    assert loss == ref_loss
    for name, g in ref_grads.items():
        torch.testing.assert_close(grads[name], g, rtol=1e-5, atol=1e-7)


def test_bf16_autocast_step():
    model = _build(TINY_AV)
    model.train()
    data = model.data_preprocessor(_batch(4), True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = model(**data, mode='loss')
    assert losses['loss_rec'].dtype == torch.float32 and torch.isfinite(losses['loss_rec'])
    losses['loss_rec'].backward()
    assert all(p.grad is None or torch.isfinite(p.grad).all() for p in model.parameters())


def test_compile_through_mmengine_config(tmp_path):
    """``compile=dict(backend=...)`` in the config compiles ``train_step``; the
    'eager' backend checks that dynamo traces our model and optimizer step on
    this machine without a C++ toolchain run (inductor is the default on GPU)."""
    torch._dynamo.reset()
    losses = {}
    for compile_cfg in (None, dict(backend='eager')):
        recorder = LossRecorder()
        torch.manual_seed(0)
        model = MODELS.build(copy.deepcopy(TINY_AV))
        kwargs = toy_runner_cfg(str(tmp_path / str(bool(compile_cfg))), 2, ckpt_interval=100,
                                custom_hooks=[recorder.hook], model=model)
        batches = [_batch(4) for _ in range(2)]

        class Fixed(torch.utils.data.Dataset):
            def __len__(self):
                return 8

            def __getitem__(self, i):
                return i

        kwargs['train_dataloader'].update(
            dataset=Fixed(), batch_size=4,
            collate_fn=lambda idx: copy.deepcopy(batches[0]))
        kwargs['cfg'] = dict(compile=compile_cfg) if compile_cfg else None
        runner = Runner(**kwargs)
        runner.train()
        # mmengine sets the compiled function on the instance
        assert ('train_step' in vars(runner.model)) == bool(compile_cfg)
        losses[bool(compile_cfg)] = recorder.losses
    for it in (1, 2):
        assert abs(losses[True][it] - losses[False][it]) <= 1e-5 * abs(losses[False][it])
    torch._dynamo.reset()
