"""Audio-video error on generated ground-truth clips (not a test; run it):

    OMP_NUM_THREADS=1 .venv/bin/python tests/datasets/measure_avi_alignment.py

For each clip (flash frame 50 at 25 fps, click at 2.0 s) prints the largest
click-onset error over four frame samplings, with the codec-delay
compensation of ``audio_io.AVI_AUDIO_DELAY_SAMPLES`` and without it.
"""
import os.path as osp
import sys
import tempfile

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))

import mmav_mask.datasets.audio_io as aio  # noqa: E402
from mmengine.registry import init_default_scope  # noqa: E402

import test_alignment as T  # noqa: E402
from avi_media import make_packed_avi  # noqa: E402
from media_utils import make_av_clip  # noqa: E402

init_default_scope('mmaction')
d = tempfile.mkdtemp()
cases = {}
for codec, rate, packed in [('mp3', 22050, True), ('mp3', 44100, True), ('mp3', 48000, True),
                            ('aac', 44100, True), ('aac', 48000, True), ('mp3', 44100, False)]:
    cases[f'avi xvid+B {"packed" if packed else "unpacked"} {codec} {rate}'] = make_packed_avi(
        f'{d}/{codec}{rate}{packed}.avi', audio_codec=codec, sample_rate=rate,
        packed=packed)['path']
clip = dict(fps=25, num_frames=100, flash_frames=[50], click_times=[2.0])
cases['avi mpeg4 (no B) mp3 44100'] = make_av_clip(f'{d}/nob.avi', sample_rate=44100,
                                                   channels=2, **clip)
cases['mp4 h264 aac 44100'] = make_av_clip(f'{d}/a.mp4', sample_rate=44100, channels=2, **clip)
cases['mkv h264 opus 48000'] = make_av_clip(f'{d}/a.mkv', sample_rate=48000, **clip)
table = dict(aio.AVI_AUDIO_DELAY_SAMPLES)
for name, path in cases.items():
    row = []
    for compensate in (True, False):
        aio.AVI_AUDIO_DELAY_SAMPLES.clear()
        if compensate:
            aio.AVI_AUDIO_DELAY_SAMPLES.update(table)
        errs = [T._click_error_ms(T._run(path, cl, iv, 50, dict(type='AudioMFCC'), sd), 2.0)
                for cl, iv, sd in [(8, 1, 0), (8, 3, 500), (16, 2, 7), (4, 6, 3)]]
        row.append(max(errs, key=abs))
    print(f'{name:36s} max error: compensated {row[0]:+6.2f} ms, '
          f'uncompensated {row[1]:+6.2f} ms')
aio.AVI_AUDIO_DELAY_SAMPLES.update(table)
