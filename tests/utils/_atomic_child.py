"""Child process for test_atomic_checkpoint: trains the toy and hangs half-way
through writing one file, so the parent can SIGKILL it mid-write.

usage: _atomic_child.py WORK_DIR TARGET READY_MARKER [--upstream]
TARGET: 'iter_4.pth' (the checkpoint), 'iter_4.pth.mmav-trust' (its trust
sidecar) or 'last_checkpoint' (the pointer). --upstream undoes mmav_mask's
checkpoint patches (control: mmengine's own behaviour).
"""
import builtins
import os
import os.path as osp
import sys
import time

sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'engine'))

work_dir, target, ready = sys.argv[1:4]
upstream = '--upstream' in sys.argv

from mmengine.hooks import checkpoint_hook as hook_mod  # noqa: E402
from mmengine.runner import checkpoint as ckpt_mod  # noqa: E402
from mmengine.runner import runner as runner_mod  # noqa: E402

originals = (ckpt_mod.save_checkpoint, hook_mod.CheckpointHook._save_checkpoint_with_step)

import mmav_mask  # noqa: E402,F401

if upstream:
    ckpt_mod.save_checkpoint = runner_mod.save_checkpoint = originals[0]
    hook_mod.CheckpointHook._save_checkpoint_with_step = originals[1]


def _is_target(path):
    name = osp.basename(str(path))
    if target.endswith('.pth'):  # the checkpoint itself, maybe through a temp name
        return target in name and not name.endswith('.mmav-trust') and \
            not name.endswith('.mmav-trust.tmp') and '.mmav-trust.' not in name
    return target in name


class HangingWriter:
    def __init__(self, f, path):
        self._f = f
        self._path = path

    def write(self, data):
        half = max(1, len(data) // 2)
        self._f.write(data[:half])
        self._f.flush()
        os.fsync(self._f.fileno())
        with builtins._real_open(ready, 'w') as r:
            r.write(str(self._path))
        time.sleep(120)  # killed here
        raise SystemExit('not killed')

    def __getattr__(self, name):
        return getattr(self._f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return self._f.__exit__(*exc)


builtins._real_open = builtins.open
_real_fdopen = os.fdopen


def hanging_open(file, mode='r', *args, **kwargs):
    f = builtins._real_open(file, mode, *args, **kwargs)
    if 'w' in mode and isinstance(file, (str, os.PathLike)) and _is_target(file):
        return HangingWriter(f, file)
    return f


def hanging_fdopen(fd, mode='r', *args, **kwargs):
    f = _real_fdopen(fd, mode, *args, **kwargs)
    if 'w' in mode:
        path = os.readlink(f'/proc/self/fd/{fd}')
        if _is_target(path):
            return HangingWriter(f, path)
    return f


builtins.open = hanging_open
os.fdopen = hanging_fdopen

from mmengine.runner import Runner  # noqa: E402

from _toy import toy_runner_cfg  # noqa: E402

Runner(**toy_runner_cfg(work_dir, 6, ckpt_interval=2, max_keep_ckpts=1)).train()
print('finished without hanging', flush=True)
