"""MAViL stage 1 and stage 2 demo configs train for 2 iterations through tools/train.py and
are evaluated (audio-to-video retrieval) through tools/test.py on fresh demo data; the
stage-2 run reads the stage-1 checkpoint as its teacher and saves the student alone."""
import json
import os
import os.path as osp
import sys

import pytest
from cli_utils import demo_list_options, run_cli

pytestmark = pytest.mark.slow

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _options(data, *extra):
    # 8 training clips at batch 4: 2 iterations
    return ['--cfg-options', *demo_list_options(data), 'train_dataloader.batch_size=4',
            'train_dataloader.dataset.indices=8', 'train_cfg.max_epochs=1',
            'train_cfg.val_interval=1', 'default_hooks.checkpoint.interval=1', *extra]


def _train_and_test(config, work, data, losses, *extra):
    run_cli([sys.executable, 'tools/train.py', config, '--work-dir', str(work / 'train')]
            + _options(data, *extra))
    with open(work / 'train' / 'last_checkpoint') as f:
        ckpt = f.read().strip()
    assert ckpt.endswith('epoch_1.pth') and osp.isfile(ckpt)
    run = [d for d in os.listdir(work / 'train') if osp.isdir(work / 'train' / d / 'vis_data')]
    with open(work / 'train' / run[0] / 'vis_data' / 'scalars.json') as f:
        scalars = [json.loads(line) for line in f if line.strip()]
    train = [s for s in scalars if 'loss' in s]
    assert train and train[-1]['iter'] == 2
    for key in losses:
        assert 0 < train[-1][key] < 100, (key, train[-1])
    out = run_cli([sys.executable, 'tools/test.py', config, ckpt, '--work-dir',
                   str(work / 'test')] + _options(data, *extra))
    for key in ('retrieval/a2v_R@1', 'retrieval/a2v_median_rank', 'retrieval/chance_R@1'):
        assert key in out, key
    return ckpt


def test_stage1_then_stage2_train_and_test(tiny_demo_data, tmp_path):
    from mmav_mask.models.checkpoint_layouts import detect_layout, unwrap_state_dict
    from mmav_mask.utils.checkpoint import safe_load
    losses = ('loss_video', 'loss_audio', 'loss_inter', 'loss_intra')
    stage1 = _train_and_test(osp.join(REPO, 'configs', 'mavil_stage1_demo.py'),
                             tmp_path / 's1', tiny_demo_data, losses)
    stage2 = _train_and_test(osp.join(REPO, 'configs', 'mavil_stage2_demo.py'),
                             tmp_path / 's2', tiny_demo_data, losses,
                             f'model.teacher.checkpoint={stage1}')
    state = unwrap_state_dict(safe_load(stage2))
    assert detect_layout(state) == 'mavil'
    assert not [k for k in state if k.startswith('teacher.')]
