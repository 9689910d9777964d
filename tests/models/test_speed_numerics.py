"""Numerics of the speed options of issue 13.

The one speed change proposed for the model's training step is PyTorch's
fused AdamW (``optim_wrapper.optimizer.fused=True``, a vectorised kernel on
CPU and GPU; 3x faster than the default for-loop on CPU, which on a small
batch is a fixed 10-20 % of the step). Forward and backward are unchanged
(the same model code), so the ground truth is today's optimizer: after three
training steps of the AV model from the same initialisation on the same
batches, every parameter must agree with the for-loop AdamW's within 1e-6.
"""
import copy
import os.path as osp
import sys

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, osp.join(REPO, 'tools', 'analysis'))
import benchmark  # noqa: E402

MODEL = dict(
    type='AVMaskEnhancer',
    data_preprocessor=dict(type='AVDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375]),
    backbone=dict(type='MaskedVideoViT', img_size=32, num_frames=4,
                  arch=dict(embed_dims=32, depth=2, num_heads=2)),
    audio_backbone=dict(type='TalkNetAudioEncoder', out_dim=32, num_tokens=4,
                        layers=(1, 1, 1, 1), widths=(4, 8, 8, 16)),
    fusion=dict(type='CrossAttentionFusion', num_heads=2, dropout=0.0),
    decoder=dict(type='VideoMAEDecoder', embed_dims=16, depth=1, num_heads=2))
PIPELINE = [dict(type='AudioMFCC', num_rows=16), dict(type='TubeMaskGenerator', mask_ratio=0.5)]


def _optim_cfg(**optimizer):
    """The paper config's AdamW settings (lr, betas, weight decay, no decay on
    norms / biases / mask token) as a plain (fp32) OptimWrapper."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'avmask_ucf101.py'))
    optim = copy.deepcopy(cfg.optim_wrapper)
    optim['type'] = 'OptimWrapper'
    optim.pop('dtype', None)
    optim['optimizer'] = dict(optim['optimizer'], **optimizer)
    return Config(dict(optim_wrapper=optim))


def _train(optimizer_kwargs, steps=3):
    import mmav_mask  # noqa: F401
    from mmaction.registry import MODELS
    from mmengine.registry import init_default_scope
    init_default_scope('mmaction')
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(MODEL))
    model.train()
    wrapper = benchmark._build_optim_wrapper(model, _optim_cfg(**optimizer_kwargs), 'cpu',
                                             'none')
    losses = []
    for step in range(steps):
        batch = benchmark.synthetic_batch(model, PIPELINE, 2)
        batch['inputs']['imgs'] = [torch.roll(x, shifts=step + i, dims=-1)  # new data
                                   for i, x in enumerate(batch['inputs']['imgs'])]
        losses.append(float(model.train_step(batch, wrapper)['loss']))
    return model, losses


def test_fused_adamw_matches_for_loop():
    ref, ref_losses = _train(dict(foreach=False))
    fused, fused_losses = _train(dict(fused=True))
    assert fused_losses[0] == ref_losses[0]  # same init, same first forward
    assert fused_losses == pytest.approx(ref_losses, abs=1e-6)
    worst = 0.0
    for (name, p_ref), (_, p_fused) in zip(ref.named_parameters(), fused.named_parameters()):
        worst = max(worst, float((p_ref - p_fused).abs().max()))
    # the step moved the weights (lr 1.5e-4 x 3 steps), so agreement is not trivial
    moved = max(float((p - q).abs().max()) for p, q in zip(
        ref.parameters(), _train(dict(foreach=False), steps=0)[0].parameters()))
    assert moved > 1e-4
    assert worst <= 1e-6, worst
