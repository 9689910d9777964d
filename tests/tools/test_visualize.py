"""tools/visualize_reconstruction.py end to end on two tiny demo clips and two
checkpoints of a tiny AVMaskEnhancer: same clips and masks for every column,
visible tubelets shown as they are, masked ones from each model."""
import importlib.util
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import mmav_mask  # noqa: F401
from mmav_mask.utils import save_checkpoint_atomic

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))

CONFIG = """
custom_imports = dict(imports=['mmav_mask'], allow_failed_imports=False)
default_scope = 'mmaction'
model = dict(
    type='AVMaskEnhancer',
    data_preprocessor=dict(type='AVDataPreprocessor'),
    backbone=dict(type='MaskedVideoViT', img_size=32, num_frames=4,
                  arch=dict(embed_dims=32, depth=1, num_heads=2)),
    audio_backbone=dict(type='TalkNetAudioEncoder', out_dim=32, num_tokens=2,
                        layers=(1, 1, 1, 1), widths=(4, 8, 8, 8)),
    fusion=dict(type='CrossAttentionFusion', num_heads=2, dropout=0.0),
    decoder=dict(type='VideoMAEDecoder', embed_dims=16, depth=1, num_heads=2),
    head=dict(type='PixelReconstructionHead', norm_pix=True))
pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1, test_mode=True),
    dict(type='LoadAlignedAudio', sample_rate=16000),
    dict(type='DecordDecode'),
    dict(type='AudioMFCC', num_rows=32, norm='utterance'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='TubeMaskGenerator', mask_ratio=0.5),
    dict(type='PackAVInputs'),
]
test_dataloader = dict(batch_size=1, dataset=dict(
    type='AVVideoDataset', ann_file='{root}/ucf101_val_split_1_videos.txt',
    data_prefix=dict(video='{root}/videos'), pipeline=pipeline, test_mode=True))
"""


def _tool():
    spec = importlib.util.spec_from_file_location(
        'visualize_reconstruction', osp.join(REPO, 'tools', 'visualize_reconstruction.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('vis')
    root = tmp / 'demo'
    subprocess.run([sys.executable, osp.join(REPO, 'tools', 'data', 'make_demo_dataset.py'),
                    '--out', str(root), '--num-classes', '2', '--clips-per-class', '2',
                    '--size', '32', '--duration', '1'], check=True, capture_output=True)
    cfg_path = tmp / 'tiny_cfg.py'
    cfg_path.write_text(CONFIG.replace('{root}', str(root)))
    cfg = Config.fromfile(str(cfg_path))
    from mmaction.registry import MODELS
    ckpts = []
    with DefaultScope.overwrite_default_scope('mmaction'):
        for seed in (1, 2):  # two different "trainings"
            torch.manual_seed(seed)
            model = MODELS.build(cfg.model)
            path = str(tmp / f'model{seed}' / 'epoch_1.pth')
            save_checkpoint_atomic(dict(state_dict=model.state_dict(), meta=dict(epoch=1)),
                                   path)
            ckpts.append(path)
    return tmp, cfg, ckpts


def test_panels_share_clips_and_masks(setup):
    tmp, cfg, ckpts = setup
    tool = _tool()
    with DefaultScope.overwrite_default_scope('mmaction'):
        batch = tool.load_batch(cfg, num_clips=2, seed=0)
        a = tool.reconstruct(tool.build_model(cfg.model, ckpts[0]), batch)
        b = tool.reconstruct(tool.build_model(cfg.model, ckpts[1]), batch)
        again = tool.load_batch(cfg, num_clips=2, seed=0)
    # the same command gives the same clips and masks
    for key in ('imgs', 'mask', 'audio'):
        assert all(torch.equal(x, y) for x, y in zip(batch['inputs'][key],
                                                        again['inputs'][key])), key
    gt, mask = a['gt'], a['mask']
    assert gt.shape == (2, 3, 4, 32, 32) and mask.shape == (2, 4, 32, 32)
    assert torch.equal(mask, b['mask']) and torch.equal(gt, b['gt'])
    # 2 of the 4 patches of every frame are masked (ratio 0.5 on a 2 x 2 grid)
    assert mask.float().mean(dim=(2, 3)).eq(0.5).all()
    visible = ~mask[:, None].expand_as(gt)
    for res in (a, b):
        # visible tubelets are the input; masked ones come from the model
        torch.testing.assert_close(res['rec'][visible], gt[visible])
        assert not torch.allclose(res['rec'][~visible], gt[~visible], atol=1e-3)
    assert not torch.allclose(a['rec'][~visible], b['rec'][~visible])
    masked = tool.masked_input(gt, mask)
    assert torch.equal(masked[visible], gt[visible])
    assert masked[~visible].eq(0.5).all()
    # the per-clip MSE is the masked-pixel MSE of what the picture shows
    expected = ((a['rec'] - gt) ** 2 * (~visible)).flatten(1).sum(1) / (~visible).flatten(1).sum(1)
    torch.testing.assert_close(a['mse'], expected, atol=1e-5, rtol=1e-4)


def test_cli_writes_grid(setup, capsys):
    tmp, _, ckpts = setup
    out = tmp / 'fig2.png'
    assert _tool().main([str(tmp / 'tiny_cfg.py'), *ckpts, '--out', str(out),
                         '--num-clips', '2', '--num-frames', '3',
                         '--labels', 'VideoMAE', 'AV-MaskEnhancer']) == 0
    text = capsys.readouterr().out
    assert 'wrote' in text and '(6 rows x 4 columns)' in text
    assert 'VideoMAE: masked-pixel MSE' in text and 'AV-MaskEnhancer: masked-pixel MSE' in text
    import matplotlib.image as mpimg
    image = mpimg.imread(str(out))
    assert image.shape[0] > image.shape[1]  # 6 rows taller than 4 columns wide
    with pytest.raises(SystemExit):
        _tool().main([str(tmp / 'tiny_cfg.py'), *ckpts, '--out', str(out),
                      '--labels', 'only-one'])


def test_object_hidden_needs_every_object_pixel_masked():
    """--hidden-objects keeps a clip only if no visible tubelet shows object pixels."""
    from mmaction.structures import ActionDataSample
    tool = _tool()
    mask = torch.ones(2, 2, 2, dtype=torch.bool)        # (T', H', W'), 16 px patches
    mask[:, 0, 0] = False                               # the top-left patch is visible
    objects = torch.zeros(4, 32, 32, dtype=torch.bool)  # (T, H, W)
    objects[:, 20:28, 20:28] = True                     # inside the masked bottom-right patch
    ds = ActionDataSample()
    ds.object_mask = objects
    sample = dict(inputs=dict(mask=mask), data_samples=ds)
    assert tool.object_hidden(sample)
    objects[3, 15, 15] = True                           # one pixel in the visible patch
    assert not tool.object_hidden(sample)
    ds.object_mask = torch.zeros(4, 32, 32, dtype=torch.bool)   # no object at all
    assert not tool.object_hidden(sample)
