"""Child side of test_atomic_checkpoint: trains the toy and hangs half-way
through writing one file, so the parent can SIGKILL it mid-write.

``run_and_hang`` is called in a forked child of the test process (no second
import of torch/mmaction). ``target``: 'iter_4.pth' (the checkpoint) or
'last_checkpoint' (the pointer). The run uses ``AtomicCheckpointHook``;
``upstream`` uses mmengine's own ``CheckpointHook`` instead (control).
"""
import builtins
import os
import os.path as osp
import time


def run_and_hang(work_dir: str, target: str, ready: str, upstream: bool = False) -> None:
    from mmengine.runner import Runner

    from _toy import toy_runner_cfg

    real_open, real_fdopen = builtins.open, os.fdopen

    def is_target(path):
        name = osp.basename(str(path))
        if target.endswith('.pth'):  # the checkpoint, maybe through a temp name
            return target in name
        return target in name

    class HangingWriter:
        def __init__(self, f, path):
            self._f, self._path = f, path

        def write(self, data):
            self._f.write(data[:max(1, len(data) // 2)])
            self._f.flush()
            os.fsync(self._f.fileno())
            with real_open(ready, 'w') as r:
                r.write(str(self._path))
            time.sleep(120)  # killed here

        def __getattr__(self, name):
            return getattr(self._f, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self._f.__exit__(*exc)

    def hanging_open(file, mode='r', *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        if 'w' in mode and isinstance(file, (str, os.PathLike)) and is_target(file):
            return HangingWriter(f, file)
        return f

    def hanging_fdopen(fd, mode='r', *args, **kwargs):
        f = real_fdopen(fd, mode, *args, **kwargs)
        if 'w' in mode and is_target(os.readlink(f'/proc/self/fd/{fd}')):
            return HangingWriter(f, os.readlink(f'/proc/self/fd/{fd}'))
        return f

    builtins.open = hanging_open
    os.fdopen = hanging_fdopen
    cfg = toy_runner_cfg(work_dir, 6, ckpt_interval=2, max_keep_ckpts=1)
    cfg['default_hooks']['checkpoint']['type'] = \
        'CheckpointHook' if upstream else 'AtomicCheckpointHook'
    Runner(**cfg).train()
