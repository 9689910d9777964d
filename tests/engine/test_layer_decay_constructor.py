"""LayerDecayOptimWrapperConstructor gives every parameter the lr and weight decay
of the rules it replaces: the hand-written mmengine ``custom_keys`` that the AV
fine-tuning configs carried (demo and ViT-B AVRecognizer) and MMAction2's own
``LearningRateDecayOptimizerConstructor`` on its VisionTransformer (video configs)."""
import os.path as osp

import pytest
import torch
from mmaction.registry import MODELS
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mmav_mask.engine.optimizers import LayerDecayOptimWrapperConstructor, vit_layer_id

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
VIT_NO_DECAY = ('norm1.', 'norm2.', 'attn.q_bias', 'attn.v_bias', 'attn.proj.bias',
                'mlp.fc1.bias', 'mlp.fc2.bias')


def hand_rules(rate: float, depth: int) -> dict:
    """The custom_keys the AV fine-tuning configs wrote out before the constructor."""
    keys = {
        'backbone.patch_embed.proj.weight': dict(lr_mult=rate**(depth + 1)),
        'backbone.patch_embed.proj.bias': dict(lr_mult=rate**(depth + 1), decay_mult=0.0),
    }
    for i in range(depth):
        keys[f'backbone.blocks.{i}.'] = dict(lr_mult=rate**(depth - i))
        for name in VIT_NO_DECAY:
            keys[f'backbone.blocks.{i}.{name}'] = dict(lr_mult=rate**(depth - i), decay_mult=0.0)
    return dict(norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0,
                custom_keys=keys)


def per_param(model, optim_wrapper) -> dict:
    """name -> (lr, weight_decay) of the optimizer's groups."""
    names = {id(p): n for n, p in model.named_parameters()}
    out = {}
    defaults = optim_wrapper.optimizer.defaults
    for group in optim_wrapper.optimizer.param_groups:
        for p in group['params']:
            out[names[id(p)]] = (group.get('lr', defaults['lr']),
                                 group.get('weight_decay', defaults['weight_decay']))
    return out


def assert_same(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    wrong = {n: (got[n], want[n]) for n in want
             if got[n] != pytest.approx(want[n], rel=1e-12, abs=0)}
    assert not wrong, f'{len(wrong)} parameters differ, e.g. {list(wrong.items())[:3]}'


def load(name):
    cfg = Config.fromfile(osp.join(REPO, 'configs', name))
    init_default_scope('mmaction')
    torch.manual_seed(0)
    model_cfg = cfg.model.copy()
    if 'pretrained' in model_cfg:
        model_cfg.pretrained = None  # no checkpoint needed to compare parameter groups
    return cfg, MODELS.build(model_cfg)


@pytest.mark.parametrize('config,rate,depth', [
    ('avmask_demo_finetune_av.py', 0.75, 2),
    ('avmask_ucf101_finetune_av.py', 0.7, 12),
])
def test_av_configs_match_the_hand_written_rules(config, rate, depth):
    cfg, model = load(config)
    assert cfg.optim_wrapper.constructor == 'LayerDecayOptimWrapperConstructor'
    assert 'custom_keys' not in cfg.optim_wrapper.paramwise_cfg
    got = per_param(model, build_optim_wrapper(model, cfg.optim_wrapper))

    hand = cfg.optim_wrapper.copy()
    hand.pop('constructor')
    hand.paramwise_cfg = hand_rules(rate, depth)
    want = per_param(model, build_optim_wrapper(model, hand))
    assert_same(got, want)
    # the rule is not trivial: 3 + depth distinct lrs, and decay on and off
    lr = cfg.optim_wrapper.optimizer.lr
    assert {round(v[0] / lr, 12) for v in got.values()} == {
        round(rate**k, 12) for k in range(depth + 2)}
    assert {v[1] for v in got.values()} == {0.0, cfg.optim_wrapper.optimizer.weight_decay}
    assert got['backbone.patch_embed.proj.weight'][0] == pytest.approx(lr * rate**(depth + 1))
    assert got['audio_backbone.' + next(n for n, _ in model.audio_backbone.named_parameters())
               ][0] == pytest.approx(lr)


@pytest.mark.parametrize('config', ['avmask_demo_finetune_video.py',
                                    'avmask_ucf101_finetune_video.py'])
def test_video_configs_match_mmaction_constructor(config):
    """Ground truth: MMAction2's constructor, which accepts its own VisionTransformer."""
    cfg, model = load(config)
    got = per_param(model, build_optim_wrapper(model, cfg.optim_wrapper))
    mm = cfg.optim_wrapper.copy()
    mm.constructor = 'LearningRateDecayOptimizerConstructor'
    mm.paramwise_cfg = dict(decay_rate=cfg.optim_wrapper.paramwise_cfg.layer_decay_rate,
                            decay_type='layer_wise', num_layers=len(model.backbone.blocks))
    want = per_param(model, build_optim_wrapper(model, mm))
    assert_same(got, want)


def test_layer_ids():
    assert vit_layer_id('patch_embed.proj.weight', 12) == 0
    assert vit_layer_id('patch_embed.projection.bias', 12) == 0
    assert vit_layer_id('pos_embed', 12) == 0
    assert vit_layer_id('blocks.0.attn.qkv.weight', 12) == 1
    assert vit_layer_id('blocks.11.mlp.fc2.bias', 12) == 12
    assert vit_layer_id('norm.weight', 12) == 13
    assert vit_layer_id('fc_norm.bias', 12) == 13


def test_bad_settings_are_named():
    cfg = dict(optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.05))
    with pytest.raises(ValueError, match='layer_decay_rate'):
        LayerDecayOptimWrapperConstructor(cfg, dict(norm_decay_mult=0.0))
    with pytest.raises(ValueError, match='layer_decay_rate must be in'):
        LayerDecayOptimWrapperConstructor(cfg, dict(layer_decay_rate=1.5))
    model = torch.nn.Sequential()
    model.backbone = torch.nn.Linear(2, 2)
    with pytest.raises(ValueError, match='model.backbone.blocks does not exist'):
        LayerDecayOptimWrapperConstructor(cfg, dict(layer_decay_rate=0.7))(model)


def test_layer_decay_alone_still_scales():
    """Only layer_decay_rate given: mmengine's 'no paramwise options' shortcut must not
    skip the scaling."""
    class Vit(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.patch_embed = torch.nn.Linear(2, 2)
            self.blocks = torch.nn.ModuleList([torch.nn.Linear(2, 2) for _ in range(3)])
            self.norm = torch.nn.LayerNorm(2)

    model = torch.nn.Module()
    model.backbone, model.head = Vit(), torch.nn.Linear(2, 2)
    cfg = dict(optimizer=dict(type='SGD', lr=1.0, weight_decay=0.1))
    got = per_param(model, LayerDecayOptimWrapperConstructor(cfg, dict(layer_decay_rate=0.5))(model))
    assert got['backbone.patch_embed.weight'] == (0.5**4, 0.1)
    assert got['backbone.blocks.0.bias'] == (0.5**3, 0.1)
    assert got['backbone.blocks.2.weight'] == (0.5, 0.1)
    assert got['backbone.norm.weight'] == (1.0, 0.1)
    assert got['head.weight'] == (1.0, 0.1)
