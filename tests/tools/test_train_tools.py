"""The command-line tools a user runs: tools/train.py, tools/test.py,
tools/dist_train.sh (2 gloo processes on CPU) and MMAction2's own train.py."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIG = osp.join(REPO, 'configs', 'avmask_demo_tiny.py')


def _run(cmd, cwd, timeout=300):
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore')
    env['PYTHON'] = sys.executable
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          errors='replace', timeout=timeout)
    assert proc.returncode == 0, f'{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}'
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def demo_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('demo')
    _run([sys.executable, osp.join(REPO, 'tools', 'data', 'make_demo_dataset.py'),
          '--out', str(root / 'data'), '--num-classes', '2', '--clips-per-class', '6'], REPO)
    return root


def _data_options(root):
    data = f'{root}/data'
    return ['--cfg-options',
            f'train_dataloader.dataset.ann_file={data}/ucf101_train_split_1_videos.txt',
            f'train_dataloader.dataset.data_prefix.video={data}/videos',
            f'val_dataloader.dataset.ann_file={data}/ucf101_val_split_1_videos.txt',
            f'val_dataloader.dataset.data_prefix.video={data}/videos',
            f'test_dataloader.dataset.ann_file={data}/ucf101_val_split_1_videos.txt',
            f'test_dataloader.dataset.data_prefix.video={data}/videos',
            'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
            'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
            'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
            'train_cfg.max_epochs=2', 'train_cfg.val_interval=2',
            'default_hooks.checkpoint.interval=1']


def _scalars(work_dir):
    runs = sorted(d for d in os.listdir(work_dir) if osp.isdir(osp.join(work_dir, d, 'vis_data')))
    lines = []
    for run in runs:
        with open(osp.join(work_dir, run, 'vis_data', 'scalars.json')) as f:
            lines += [json.loads(line) for line in f if line.strip()]
    return lines


def test_train_then_test_reports_reconstruction(demo_root):
    work = demo_root / 'train'
    _run([sys.executable, 'tools/train.py', CONFIG, '--work-dir', str(work)]
         + _data_options(demo_root), REPO)
    with open(work / 'last_checkpoint') as f:
        ckpt = f.read().strip()
    assert ckpt.endswith('epoch_2.pth') and osp.isfile(ckpt)
    losses = [s['loss_rec'] for s in _scalars(work) if 'loss_rec' in s]
    assert losses and all(0 < v < 10 for v in losses)

    out = _run([sys.executable, 'tools/test.py', CONFIG, ckpt, '--work-dir',
                str(demo_root / 'test')] + _data_options(demo_root), REPO)
    assert 'rec/masked_mse' in out and 'rec/psnr' in out


def test_resume_continues_from_last_checkpoint(demo_root):
    work = demo_root / 'resume'
    opts = _data_options(demo_root)
    _run([sys.executable, 'tools/train.py', CONFIG, '--work-dir', str(work)]
         + opts[:-3] + ['train_cfg.max_epochs=1', 'train_cfg.val_interval=5',
                        'default_hooks.checkpoint.interval=1'], REPO)
    out = _run([sys.executable, 'tools/train.py', CONFIG, '--work-dir', str(work), '--resume']
               + opts, REPO)
    assert 'resumed epoch: 1' in out.lower() or 'resumed epoch 1' in out.lower(), out[-2000:]
    assert osp.isfile(work / 'epoch_2.pth')


def test_mmaction_own_train_tool_runs_our_config(demo_root):
    import mmaction
    tool = osp.join(osp.dirname(mmaction.__file__), '.mim', 'tools', 'train.py')
    work = demo_root / 'mim'
    _run([sys.executable, tool, CONFIG, '--work-dir', str(work)] + _data_options(demo_root),
         REPO)
    assert osp.isfile(work / 'epoch_2.pth')


def test_dist_train_two_cpu_processes(demo_root):
    work = demo_root / 'dist'
    env_port = str(29500 + os.getpid() % 1000)
    out = _run(['env', f'PORT={env_port}', 'bash', 'tools/dist_train.sh', CONFIG, '2',
                '--work-dir', str(work)] + _data_options(demo_root), REPO)
    assert osp.isfile(work / 'epoch_2.pth')
    assert 'Distributed training: True' in out
    # Two processes share each epoch: ceil(clips / (2 x batch 4)) iterations per epoch.
    with open(demo_root / 'data' / 'ucf101_train_split_1_videos.txt') as f:
        clips = sum(1 for line in f if line.strip())
    iters = -(-clips // 8)
    assert f'Epoch(train) [2][{iters}/{iters}]' in out, out[-3000:]
