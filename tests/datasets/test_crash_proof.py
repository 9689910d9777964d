"""No input file can crash the process: the real UCF101 AVI (XVID + MP3) cut at
50/75/90/99 % segfaults decord when MMAction2's ``DecordInit`` opens it from
memory. Every crash-prone run here happens in a subprocess, so a segfault
fails the test instead of killing pytest."""
import json
import os.path as osp
import subprocess
import sys
import textwrap

import pytest

from mmav_mask.datasets.isolated_decode import check_decord_files, run_isolated

pytestmark = pytest.mark.slow

AVI = 'videos/ApplyEyeMakeup/mmaction2_test.avi'
CUTS = (50, 75, 90, 99)
HERE = osp.dirname(osp.abspath(__file__))


@pytest.fixture(scope='module')
def avi_tree(real_clips_root, tmp_path_factory):
    """videos/A/good.avi (the real clip), cut{50,75,90,99}.avi, good.mp4."""
    root = tmp_path_factory.mktemp('crash')
    vids = root / 'videos' / 'A'
    vids.mkdir(parents=True)
    data = open(osp.join(real_clips_root, AVI), 'rb').read()
    (vids / 'good.avi').write_bytes(data)
    for cut in CUTS:
        (vids / f'cut{cut}.avi').write_bytes(data[:len(data) * cut // 100])
    mp4 = open(osp.join(real_clips_root, 'videos/drum/vas_video_02480.mp4'), 'rb').read()
    (vids / 'good.mp4').write_bytes(mp4)
    return root


def _py(code: str, timeout: int = 240):
    proc = subprocess.run([sys.executable, '-c', textwrap.dedent(code)], capture_output=True,
                          text=True, errors='replace', timeout=timeout, cwd=HERE,
                          env={**__import__('os').environ, 'OMP_NUM_THREADS': '1'})
    return proc.returncode, proc.stdout, proc.stderr


def test_premise_decord_from_memory_segfaults(avi_tree):
    """The bug this module guards against is real: DecordInit on the 90 % cut
    kills its process with SIGSEGV (rc -11), by path it opens."""
    path = str(avi_tree / 'videos/A/cut90.avi')
    rc, out, err = _py(f"""
        import mmav_mask
        from mmaction.registry import TRANSFORMS
        from mmengine.registry import init_default_scope
        init_default_scope('mmaction')
        TRANSFORMS.build(dict(type='DecordInit'))(dict(filename={path!r}))
        print('survived')
    """)
    assert rc == -11 and 'survived' not in out, (rc, out, err[-500:])
    rc, out, err = _py(f"import decord; print(len(decord.VideoReader({path!r})))")
    assert rc == 0 and int(out.split()[-1]) == 143, err[-500:]


def test_run_isolated_survives_crash_and_hang():
    import os
    import signal
    import time

    def fn(x):
        if x == 1:
            os.kill(os.getpid(), signal.SIGSEGV)
        if x == 3:
            time.sleep(30)
        if x == 4:
            raise ValueError('bad item')
        return x * 10

    got = run_isolated(fn, [0, 1, 2, 3, 4, 5], timeout_s=2)
    assert got[0] == (True, 0) and got[2] == (True, 20) and got[5] == (True, 50)
    assert got[1] == (False, 'decoder crashed (killed by SIGSEGV)')
    assert got[3] == (False, 'decoder crashed (timed out after 2 s)')
    assert got[4] == (False, 'ValueError: bad item')


def test_isolated_decord_check(avi_tree):
    vids = avi_tree / 'videos/A'
    paths = [str(vids / n) for n in ['good.avi', 'cut50.avi', 'cut75.avi', 'cut90.avi',
                                     'cut99.avi', 'good.mp4', 'missing.avi']]
    from_memory = check_decord_files(paths, 'bytes')
    assert from_memory[0] is None and from_memory[4] is None and from_memory[5] is None
    for i in (1, 2, 3):
        assert from_memory[i] == 'decoder crashed (killed by SIGSEGV)', from_memory
    assert from_memory[6] == 'file not found'
    by_path = check_decord_files(paths, 'path')
    assert by_path[:6] == [None] * 6


def test_sentinel_one_file_at_a_time(avi_tree):
    """Single-file checks go to a long-lived child; a crash costs only that
    answer, and the next check gets a fresh child."""
    from mmav_mask.datasets import isolated_decode as iso
    vids = avi_tree / 'videos/A'
    pids, got = [], []
    for name in ['good.avi', 'cut50.avi', 'good.mp4', 'cut90.avi', 'cut99.avi']:
        path = str(vids / name)
        for level in (False, True):  # forget earlier tests' answers
            iso._CHECK_CACHE.pop(iso.file_key(path, 'bytes') + (level,), None)
        got.append(check_decord_files([path], 'bytes', decode=False)[0])
        pids.append(iso._SENTINEL.pid)
    assert got == [None, 'decoder crashed (killed by SIGSEGV)', None,
                   'decoder crashed (killed by SIGSEGV)', None]
    # same child until it crashed, a new one after each crash
    assert pids[1] is None and pids[3] is None
    assert pids[0] is not None and pids[2] not in (None, pids[0]) and pids[4] not in (
        None, pids[2])


# the dataset in a subprocess, iterated with a DataLoader
_DATASET_RUN = """
import json, logging, sys
import mmav_mask, torch
from mmengine.dataset import pseudo_collate
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmaction.registry import DATASETS
init_default_scope('mmaction')
messages = []
class H(logging.Handler):
    def emit(self, r): messages.append(r.getMessage())
MMLogger.get_current_instance().addHandler(H())
init, lines, root, workers, kwargs = json.loads(sys.argv[1])
ann = root + '/list.txt'
open(ann, 'w').write(''.join(l + ' 0\\n' for l in lines))
pipeline = [dict(type=init), dict(type='SampleFrames', clip_len=4, frame_interval=2,
            num_clips=1), dict(type='LoadAlignedAudio'), dict(type='DecordDecode'),
            dict(type='Resize', scale=(32, 32), keep_ratio=False),
            dict(type='FormatShape', input_format='NCTHW'), dict(type='AudioMFCC', num_rows=8),
            dict(type='PackAVInputs')]
out = dict()
try:
    ds = DATASETS.build(dict(type='AVVideoDataset', ann_file=ann, pipeline=pipeline,
                             data_prefix=dict(video=root + '/videos'), **kwargs))
    out['len'] = len(ds)
    out['num_bad_videos'] = ds.num_bad_videos
    loader = torch.utils.data.DataLoader(ds, batch_size=1, num_workers=workers,
                                         collate_fn=pseudo_collate)
    out['shapes'] = [list(b['inputs']['imgs'][0].shape) for b in loader]
except Exception as e:
    out['error'] = type(e).__name__ + ': ' + str(e)
out['log'] = messages
print('RESULT ' + json.dumps(out))
"""


def _dataset(avi_tree, init, lines, workers, **kwargs):
    rc, out, err = _py(_DATASET_RUN.replace('sys.argv[1]', repr(json.dumps(
        [init, lines, str(avi_tree), workers, kwargs]))))
    assert rc == 0, f'rc={rc} (a crash, not an error)\n{out[-2000:]}\n{err[-3000:]}'
    line = [x for x in out.splitlines() if x.startswith('RESULT ')][-1]
    res = json.loads(line[len('RESULT '):])
    res['output'] = out + err  # DataLoader workers log here, not to the main logger
    return res


CRASHING = ('A/cut50.avi', 'A/cut75.avi', 'A/cut90.avi')


@pytest.mark.parametrize('workers', [0, 2])
@pytest.mark.parametrize('cut', [50, 75, 90])
def test_truncated_alone_raises_naming_the_file(avi_tree, cut, workers):
    """bad_video='error' (default, no probe): a clear error naming the file."""
    res = _dataset(avi_tree, 'DecordInit', [f'A/cut{cut}.avi'], workers)
    assert 'VideoReadError' in res['error'] and f'cut{cut}.avi' in res['error'], res
    assert 'SIGSEGV' in res['error']


@pytest.mark.parametrize('workers', [0, 2])
def test_99_percent_cut_alone_loads(avi_tree, workers):
    """The 99 % cut still has its index: DecordInit reads it (no false alarm)."""
    res = _dataset(avi_tree, 'DecordInit', ['A/cut99.avi'], workers)
    assert 'error' not in res and res['shapes'] == [[1, 3, 4, 32, 32]], res


def test_truncated_alone_skip_policy(avi_tree):
    """Only crashing files and bad_video='skip': nothing left is an error
    naming the list, not a crash (raised at load, before any worker)."""
    res = _dataset(avi_tree, 'DecordInit', list(CRASHING), 0, bad_video='skip')
    assert res['error'].startswith('AnnotationError') and 'list.txt' in res['error'], res
    assert '3 unreadable videos' in res['error']


@pytest.mark.parametrize('workers', [0, 2])
def test_truncated_mixed_skip_policy(avi_tree, workers):
    """bad_video='skip': the probe (in forked children) drops the three files
    that crash decord, logs the count, and the rest loads in workers."""
    lines = ['A/good.avi', 'A/cut50.avi', 'A/good.mp4', 'A/cut75.avi', 'A/cut90.avi',
             'A/cut99.avi']
    res = _dataset(avi_tree, 'DecordInit', lines, workers, bad_video='skip')
    assert 'error' not in res, res
    assert res['len'] == 3 and res['num_bad_videos'] == 3
    assert res['shapes'] == [[1, 3, 4, 32, 32]] * 3
    log = ' '.join(res['log'])
    assert 'skipped 3 of 6 clips with unreadable video' in log
    assert 'cut50.avi: decord cannot read it' in log or 'cut50.avi: decoder crashed' in log


@pytest.mark.parametrize('workers', [0, 2])
def test_truncated_mixed_skip_at_runtime(avi_tree, workers):
    """No probe at load: the crashing files are found when first opened
    (forked check) and replaced by other samples in training."""
    lines = ['A/good.avi', 'A/cut50.avi', 'A/cut90.avi', 'A/good.mp4']
    res = _dataset(avi_tree, 'DecordInit', lines, workers, bad_video='skip',
                   probe_files=False)
    assert 'error' not in res, res
    assert res['len'] == 4 and res['shapes'] == [[1, 3, 4, 32, 32]] * 4
    log = res['output'] if workers else ' '.join(res['log'])
    # both are visited by the sampler (a random replacement may hit one again)
    assert log.count('skipping') >= 2 and 'cut50.avi: decord cannot open it' in log
    assert 'cut90.avi: decord cannot open it: decoder crashed (killed by SIGSEGV)' in log


@pytest.mark.parametrize('workers', [0, 2])
def test_safe_decord_init_reads_every_cut(avi_tree, workers):
    """SafeDecordInit opens by path: all cuts load (the frames they hold)."""
    lines = ['A/good.avi'] + [f'A/cut{c}.avi' for c in CUTS] + ['A/good.mp4']
    res = _dataset(avi_tree, 'SafeDecordInit', lines, workers, probe_files=True)
    assert 'error' not in res, res
    assert res['len'] == 6 and res['shapes'] == [[1, 3, 4, 32, 32]] * 6


def test_safe_decord_init_names_unreadable_file(avi_tree, tmp_path):
    import os
    from mmaction.registry import TRANSFORMS
    from mmav_mask.datasets.transforms import VideoOpenError
    bad = tmp_path / 'garbage.avi'
    bad.write_bytes(b'RIFF' + os.urandom(5000))
    t = TRANSFORMS.build(dict(type='SafeDecordInit'))
    with pytest.raises(VideoOpenError, match='garbage.avi: cannot open the video'):
        t(dict(filename=str(bad)))
    res = t(dict(filename=str(avi_tree / 'videos/A/cut50.avi')))
    assert res['total_frames'] == 77 and res['avg_fps'] == 25.0
    strict = TRANSFORMS.build(dict(type='SafeDecordInit', check_decode=True))
    with pytest.raises(VideoOpenError, match='garbage.avi'):
        strict(dict(filename=str(bad)))
    assert strict(dict(filename=str(avi_tree / 'videos/A/cut90.avi')))['total_frames'] == 143
