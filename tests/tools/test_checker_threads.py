"""The crash-isolating checker with a multi-threaded torch parent: the forked
children must not inherit a dead OpenMP pool (every clip used to "time out"
with OMP_NUM_THREADS=2, the main job's setting)."""
import os
import os.path as osp
import subprocess
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
pytestmark = pytest.mark.slow


def test_checker_children_work_with_two_torch_threads(tmp_path):
    data = str(tmp_path / 'demo')
    subprocess.run([sys.executable, osp.join(REPO, 'tools', 'data', 'make_demo_dataset.py'),
                    '--out', data, '--num-classes', '2', '--clips-per-class', '3',
                    '--duration', '1.5'], check=True, capture_output=True, timeout=120)
    env = dict(os.environ, OMP_NUM_THREADS='2')
    proc = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'data', 'check_av_dataset.py'),
         osp.join(REPO, 'configs', 'avmask_demo_tiny.py'), '--split', 'train',
         '--data-root', data, '--timeout', '30'],
        capture_output=True, text=True, timeout=300, env=env, cwd=REPO)
    assert 'summary: 4 clips: 4 ok, 0 failed' in proc.stdout, proc.stdout[-2000:]
