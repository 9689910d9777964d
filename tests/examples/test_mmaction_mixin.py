"""Audio in a stock MMAction2 config: the worked example (configs/examples/
mmaction_videomae_av_demo.py, inheriting MMAction2's VideoMAE ViT-B config
through ``mmaction::``) trains on the demo data, and a stock Recognizer3D
trains on AVVideoDataset with ``PackAVInputs(video_only=True)``."""
import copy
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

import mmav_mask  # noqa: F401

pytestmark = pytest.mark.slow  # builds runners, decodes video

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
EXAMPLE = osp.join(REPO, 'configs', 'examples', 'mmaction_videomae_av_demo.py')


@pytest.fixture(scope='module')
def demo_data(tmp_path_factory):
    out = tmp_path_factory.mktemp('demo')
    subprocess.run([sys.executable, 'tools/data/make_demo_dataset.py', '--out', str(out),
                    '--seed', '0', '--clips-per-class', '2'], cwd=REPO, check=True,
                   capture_output=True, timeout=120)
    return str(out)


def _two_iterations(cfg, data, work_dir):
    """The config's own model and pipelines on the demo data, 2 training
    iterations then one validation pass."""
    cfg = copy.deepcopy(cfg)
    for split, ann in (('train', 'ucf101_train_split_1_videos.txt'),
                       ('val', 'ucf101_val_split_1_videos.txt')):
        loader = cfg[f'{split}_dataloader']
        loader.dataset.ann_file = osp.join(data, ann)
        loader.dataset.data_prefix = dict(video=osp.join(data, 'videos'))
    cfg.test_dataloader = cfg.test_evaluator = cfg.test_cfg = None
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=2, val_interval=2)
    cfg.param_scheduler = []
    cfg.work_dir = work_dir
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=2, by_epoch=False)
    runner = Runner.from_cfg(cfg)
    before = {k: v.clone() for k, v in runner.model.state_dict().items()}
    runner.train()
    return runner, before


def test_mmaction_base_config_resolves():
    """``mmaction::`` needs pkg_resources (setuptools < 81, pinned in requirements.txt)."""
    cfg = Config.fromfile(EXAMPLE)
    # inherited from MMAction2's VideoMAE config, changed where the example says so
    assert cfg.model.backbone.type == 'VisionTransformer'
    assert cfg.model.backbone.qkv_bias is True and cfg.model.backbone.patch_size == 16
    assert cfg.model.cls_head.type == 'TimeSformerHead'
    assert cfg.model.data_preprocessor.type == 'ActionDataPreprocessor'
    assert cfg.model.type == 'AVRecognizer'
    assert cfg.train_dataloader.dataset.type == 'AVVideoDataset'
    assert cfg.default_scope == 'mmaction'


def test_example_trains_two_iterations(demo_data, tmp_path):
    runner, before = _two_iterations(Config.fromfile(EXAMPLE), demo_data, str(tmp_path))
    model = runner.model
    assert type(model).__name__ == 'AVRecognizer'
    assert type(model.backbone).__name__ == 'VisionTransformer'
    assert type(model.data_preprocessor).__name__ == 'AVDataPreprocessor'
    assert runner.iter == 2 and osp.isfile(osp.join(str(tmp_path), 'iter_2.pth'))
    after = model.state_dict()
    # both encoders and the classifier were trained: the audio reached the model
    for prefix in ('backbone.blocks.0.', 'audio_backbone.', 'cls_head.'):
        keys = [k for k in after if k.startswith(prefix) and after[k].is_floating_point()
                and 'running' not in k]
        assert keys and any(not torch.equal(after[k], before[k]) for k in keys), prefix
    loss = runner.message_hub.get_scalar('train/loss').current()
    assert 0 < loss < 10
    assert 0 <= runner.message_hub.get_scalar('val/acc/top1').current() <= 1


@pytest.mark.parametrize('preprocessor', ['ActionDataPreprocessor', 'AVDataPreprocessor'])
def test_stock_recognizer3d_on_av_dataset(demo_data, tmp_path, preprocessor):
    """Audit failures: Recognizer3D read PackAVInputs' dict ('Expected input type
    to be list, but got dict' / "'dict' object has no attribute 'shape'")."""
    cfg = Config.fromfile(EXAMPLE)
    cfg.model = dict(type='Recognizer3D', backbone=cfg.model.backbone,
                     cls_head=dict(cfg.model.cls_head, in_channels=cfg.embed_dims),
                     data_preprocessor=dict(cfg.model.data_preprocessor, type=preprocessor))
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        assert loader.dataset.pipeline[-1].type == 'PackAVInputs'
        loader.dataset.pipeline[-1].video_only = True
    runner, before = _two_iterations(cfg, demo_data, str(tmp_path))
    assert type(runner.model).__name__ == 'Recognizer3D' and runner.iter == 2
    after = runner.model.state_dict()
    assert not torch.equal(after['backbone.blocks.0.attn.qkv.weight'],
                           before['backbone.blocks.0.attn.qkv.weight'])
