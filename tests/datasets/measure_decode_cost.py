"""Cost of crash-proof decoding on the real clips (not a test; run it):

    OMP_NUM_THREADS=1 .venv/bin/python tests/datasets/measure_decode_cost.py [CLIPS_ROOT]

Prints ms per clip (median of 3 rounds) for opening with MMAction2's
``DecordInit``, ``SafeDecordInit`` without and with its isolated check (first
open and cached), the dataset's run-time guard for ``DecordInit`` pipelines,
the in-process PyAV probe and the isolated load-time probe.
"""
import glob
import os.path as osp
import statistics
import sys
import tempfile
import time

import mmav_mask  # noqa: F401
from mmaction.registry import DATASETS, TRANSFORMS
from mmengine.registry import init_default_scope

from mmav_mask.datasets import isolated_decode as iso
from mmav_mask.datasets.media_probe import probe_video

HERE = osp.dirname(osp.abspath(__file__))
root = sys.argv[1] if len(sys.argv) > 1 else osp.join(HERE, '..', '..', '..', 'shared',
                                                      'real_av_clips')
init_default_scope('mmaction')
paths = sorted(glob.glob(osp.join(root, 'videos', '*', '*.*')))


def per_clip(fn, reps=3, clear=True):
    times = []
    for _ in range(reps):
        if clear:
            iso._CHECK_CACHE.clear()
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000 / len(paths))
    return statistics.median(times)


plain = TRANSFORMS.build(dict(type='DecordInit'))
safe = TRANSFORMS.build(dict(type='SafeDecordInit'))
unchecked = TRANSFORMS.build(dict(type='SafeDecordInit', isolate=False))
rows = [
    ('DecordInit (from memory, unchecked)', per_clip(lambda: [plain(dict(filename=p))
                                                              for p in paths])),
    ('SafeDecordInit isolate=False (by path)', per_clip(lambda: [unchecked(dict(filename=p))
                                                                 for p in paths])),
    ('SafeDecordInit first open (isolated check)', per_clip(
        lambda: [safe(dict(filename=p)) for p in paths])),
    ('SafeDecordInit later opens (cached check)', per_clip(
        lambda: [safe(dict(filename=p)) for p in paths], clear=False)),
    ('dataset guard for DecordInit (isolated open)', per_clip(
        lambda: [iso.check_decord_files([p], 'bytes', decode=False) for p in paths])),
    ('PyAV probe in-process (probe_video)', per_clip(lambda: [probe_video(p, True)
                                                              for p in paths])),
]
ann = osp.join(tempfile.mkdtemp(), 'list.txt')
with open(ann, 'w') as f:
    f.writelines(osp.relpath(p, osp.join(root, 'videos')) + ' 0\n' for p in paths)
pipeline = [dict(type='DecordInit'), dict(type='SampleFrames', clip_len=16, frame_interval=4)]
rows.append(('AVVideoDataset load-time probe (isolated, 2 threads)', per_clip(
    lambda: DATASETS.build(dict(type='AVVideoDataset', ann_file=ann, pipeline=pipeline,
                                data_prefix=dict(video=osp.join(root, 'videos')),
                                probe_files=True, probe_workers=2)))))
print(f'{len(paths)} clips under {root}')
for name, ms in rows:
    print(f'{name:55s} {ms:7.1f} ms/clip')
