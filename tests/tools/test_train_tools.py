"""The command-line tools a user runs: tools/train.py, tools/test.py,
tools/dist_train.sh (2 gloo processes on CPU) and MMAction2's own train.py."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow  # subprocess runs of the CLIs and launchers (minutes)

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
            # the demo config repeats its small train list (RepeatDataset), once here
            f'train_dataloader.dataset.dataset.ann_file={data}/ucf101_train_split_1_videos.txt',
            f'train_dataloader.dataset.dataset.data_prefix.video={data}/videos',
            'train_dataloader.dataset.times=1',
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


LAUNCHERS = {'dist_train.sh': 2, 'dist_test.sh': 3, 'slurm_train.sh': 3, 'slurm_test.sh': 4}


@pytest.mark.parametrize('script', sorted(LAUNCHERS))
def test_launchers_print_usage_when_arguments_are_missing(script):
    for nargs in range(LAUNCHERS[script]):
        args = ['configs/avmask_demo_tiny.py', 'a', 'b', 'c'][:nargs]
        proc = subprocess.run(['bash', osp.join('tools', script)] + args, cwd=REPO,
                              capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2, (script, args, proc.stderr)
        assert proc.stderr.startswith('usage: ') or '\nusage: ' in proc.stderr, proc.stderr
        assert 'unbound variable' not in proc.stderr


def test_dist_launcher_rejects_a_bad_process_count_and_a_missing_config():
    proc = subprocess.run(['bash', 'tools/dist_train.sh', CONFIG, 'two'], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and "NUM_PROCESSES must be a positive integer, got 'two'" in proc.stderr
    proc = subprocess.run(['bash', 'tools/dist_train.sh', 'configs/nope.py', '2'], cwd=REPO,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and 'config file not found: configs/nope.py' in proc.stderr


FAIL_HOOK = '''
from mmaction.registry import HOOKS
from mmengine.dist import get_rank
from mmengine.hooks import Hook


@HOOKS.register_module()
class FailOnRank1Hook(Hook):
    def __init__(self):
        if get_rank() == 1:
            raise RuntimeError('boom on rank 1')
'''


def test_failed_dist_run_ends_naming_the_first_failing_rank(demo_root, tmp_path):
    """Rank 1 raises while the runner starts; rank 0 goes on until torchrun stops it."""
    (tmp_path / 'fail_on_rank1.py').write_text(FAIL_HOOK)
    cfg = tmp_path / 'fail_rank1.py'
    cfg.write_text(f"_base_ = ['{CONFIG}']\n"
                   "custom_imports = dict(imports=['mmav_mask', 'fail_on_rank1'])\n"
                   "custom_hooks = [dict(type='FailOnRank1Hook')]\n")
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore', PYTHON=sys.executable,
               PYTHONPATH=str(tmp_path), PORT=str(29500 + (os.getpid() + 7) % 1000),
               TMPDIR=str(tmp_path))  # the error files the launcher keeps on failure
    proc = subprocess.run(['bash', 'tools/dist_train.sh', str(cfg), '2', '--work-dir',
                           str(tmp_path / 'work')] + _data_options(demo_root), cwd=REPO,
                          env=env, capture_output=True, text=True, errors='replace', timeout=300)
    assert proc.returncode != 0
    tail = proc.stderr.strip().splitlines()[-6:]
    summary = '\n'.join(tail)
    assert any(line.startswith('distributed run failed (exit code')
               and 'first failing rank 1 ' in line for line in tail), summary
    assert '  RuntimeError: boom on rank 1' in tail, summary
    assert any('fail_on_rank1.py:11 in __init__' in line for line in tail), summary


FAKE_SRUN = '''#!/usr/bin/env python3
"""Stands in for slurm's srun: runs the command once per task with SLURM_PROCID set."""
import os, subprocess, sys
args = sys.argv[1:]
ntasks = int(next(a.split('=', 1)[1] for a in args if a.startswith('--ntasks=')))
cmd = args[args.index('bash'):]
rcs = [subprocess.call(cmd, env=dict(os.environ, SLURM_PROCID=str(r))) for r in range(ntasks)]
sys.exit(next((rc for rc in rcs if rc), 0))
'''
# the entry point each task runs in place of tools/train.py: rank 1 raises under @record
FAKE_TASK = '''
import os, sys
from torch.distributed.elastic.multiprocessing.errors import record

@record
def main():
    if os.environ['SLURM_PROCID'] == '1':
        raise OSError('no space left on rank 1')

main()
'''


@pytest.mark.parametrize('script,args', [
    ('slurm_train.sh', ['part', 'job', CONFIG]),
    ('slurm_test.sh', ['part', 'job', CONFIG, 'ckpt.pth'])])
def test_failed_slurm_run_ends_naming_the_first_failing_rank(tmp_path, script, args):
    """srun and the task are stand-ins; what is tested is the launcher's error plumbing."""
    bin_dir = tmp_path / 'bin'
    bin_dir.mkdir()
    (bin_dir / 'srun').write_text(FAKE_SRUN)
    (bin_dir / 'srun').chmod(0o755)
    task = tmp_path / 'task.py'
    task.write_text(FAKE_TASK)
    fake_python = bin_dir / 'fake_python'
    # the launcher runs "$PYTHON" -u tools/<x>.py ... for tasks and "$PYTHON" summary.py
    fake_python.write_text(f'#!/usr/bin/env bash\ncase "$1" in */dist_failure_summary.py) '
                           f'exec {sys.executable} "$@";; *) exec {sys.executable} {task};; esac\n')
    fake_python.chmod(0o755)
    env = dict(os.environ, PATH=f'{bin_dir}:{os.environ["PATH"]}', PYTHON=str(fake_python),
               GPUS='3', ERROR_DIR=str(tmp_path / 'errors'))
    proc = subprocess.run(['bash', osp.join('tools', script)] + args, cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    tail = proc.stderr.strip().splitlines()[-4:]
    assert tail[0].startswith('distributed run failed (exit code 1): first failing rank 1 at')
    assert tail[1] == '  OSError: no space left on rank 1'
    assert tail[2].endswith('task.py:8 in main')
