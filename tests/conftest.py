"""Shared fixtures: the real clips beside the checkout, temporary dirs."""
import os
import os.path as osp
import sys

import pytest

import mmav_mask  # noqa: F401  (applies compat, registers components)
from cli_utils import run_cli

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
REAL_CLIPS = os.environ.get('MMAV_REAL_CLIPS',
                            osp.join(osp.dirname(REPO_ROOT), 'shared', 'real_av_clips'))


@pytest.fixture(scope='session')
def real_clips_root() -> str:
    """../shared/real_av_clips (12 real clips with audio); tests using it are
    skipped with a visible reason only when the folder is absent."""
    if not osp.isdir(REAL_CLIPS):
        pytest.skip(f'real clips not found at {REAL_CLIPS}')
    return REAL_CLIPS


@pytest.fixture(scope='session')
def tiny_demo_data(tmp_path_factory) -> str:
    """A 2-class demo dataset (6 clips per class) written once by the user's tool."""
    root = str(tmp_path_factory.mktemp('tiny_demo') / 'data')
    run_cli([sys.executable, osp.join(REPO_ROOT, 'tools', 'data', 'make_demo_dataset.py'),
             '--out', root, '--num-classes', '2', '--clips-per-class', '6'])
    return root
