"""MAViL stage 1 and stage 2 demo configs train for 2 iterations through tools/train.py and
are evaluated (audio-to-video retrieval) through tools/test.py on fresh demo data; the
stage-2 run reads the stage-1 checkpoint as its teacher and saves the student alone."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def _run(cmd, timeout=400):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True,
                          errors='replace', timeout=timeout)
    assert proc.returncode == 0, f'{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}'
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def data_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('mavil_demo') / 'data'
    _run([sys.executable, osp.join(REPO, 'tools', 'data', 'make_demo_dataset.py'),
          '--out', str(root), '--num-classes', '2', '--clips-per-class', '6'])
    return root


def _options(data, *extra):
    opts = []
    for split in ('train', 'val', 'test'):
        ann = 'train' if split == 'train' else 'val'
        opts += [f'{split}_dataloader.dataset.ann_file={data}/ucf101_{ann}_split_1_videos.txt',
                 f'{split}_dataloader.dataset.data_prefix.video={data}/videos',
                 f'{split}_dataloader.num_workers=0',
                 f'{split}_dataloader.persistent_workers=False']
    # 8 training clips at batch 4: 2 iterations
    return ['--cfg-options', *opts, 'train_dataloader.batch_size=4',
            'train_dataloader.dataset.indices=8', 'train_cfg.max_epochs=1',
            'train_cfg.val_interval=1', 'default_hooks.checkpoint.interval=1', *extra]


def _train_and_test(config, work, data, losses, *extra):
    _run([sys.executable, 'tools/train.py', config, '--work-dir', str(work / 'train')]
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
    out = _run([sys.executable, 'tools/test.py', config, ckpt, '--work-dir',
                str(work / 'test')] + _options(data, *extra))
    for key in ('retrieval/a2v_R@1', 'retrieval/a2v_median_rank', 'retrieval/chance_R@1'):
        assert key in out, key
    return ckpt


def test_stage1_then_stage2_train_and_test(data_root, tmp_path):
    from mmav_mask.models.checkpoint_layouts import detect_layout, unwrap_state_dict
    from mmav_mask.utils.checkpoint import safe_load
    losses = ('loss_video', 'loss_audio', 'loss_inter', 'loss_intra')
    stage1 = _train_and_test(osp.join(REPO, 'configs', 'mavil_stage1_demo.py'),
                             tmp_path / 's1', data_root, losses)
    stage2 = _train_and_test(osp.join(REPO, 'configs', 'mavil_stage2_demo.py'),
                             tmp_path / 's2', data_root, losses,
                             f'model.teacher.checkpoint={stage1}')
    state = unwrap_state_dict(safe_load(stage2))
    assert detect_layout(state) == 'mavil'
    assert not [k for k in state if k.startswith('teacher.')]
