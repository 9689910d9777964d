"""Running the command-line tools the way a user does, on the demo data."""
import os
import os.path as osp
import subprocess
import sys

REPO_ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def run_cli(cmd, cwd: str = REPO_ROOT, timeout: int = 300) -> str:
    """Runs a command-line tool as a user would (one torch thread); its output on success,
    a failed assertion with the output's tail otherwise."""
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONWARNINGS='ignore', PYTHON=sys.executable)
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                          errors='replace', timeout=timeout)
    assert proc.returncode == 0, f'{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}'
    return proc.stdout + proc.stderr


def demo_list_options(data: str, train_prefix: str = 'train_dataloader.dataset') -> list:
    """``--cfg-options`` entries pointing a demo config's three loaders at ``data``
    (``train_prefix``: where the training list sits, e.g. inside a RepeatDataset),
    loading in the main process."""
    opts = []
    for split in ('train', 'val', 'test'):
        ann = 'train' if split == 'train' else 'val'
        dataset = train_prefix if split == 'train' else f'{split}_dataloader.dataset'
        opts += [f'{dataset}.ann_file={data}/ucf101_{ann}_split_1_videos.txt',
                 f'{dataset}.data_prefix.video={data}/videos',
                 f'{split}_dataloader.num_workers=0', f'{split}_dataloader.persistent_workers=False']
    return opts


def load_tool(relpath: str, name: str):
    """Imports a command-line tool (e.g. ``tools/analysis/avmae_tables.py``) as a module
    named ``name``, to test its functions in process."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO_ROOT, relpath))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
