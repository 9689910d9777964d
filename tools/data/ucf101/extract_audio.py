"""Extracts every video's audio track as 16 kHz mono wav, in parallel.

The output mirrors the video tree (``VIDEO_ROOT/Class/v_x.avi`` ->
``OUT/Class/v_x.wav``), which is what
``AVVideoDataset(audio_source='sidecar', data_prefix=dict(video=VIDEO_ROOT,
audio=OUT))`` reads. Sample 0 of a wav is the time of the video's first frame
(the same clock ``LoadAlignedAudio`` uses for the video's own track: the
track is read with ``mmav_mask.datasets.audio_io.read_track_span``, downmixed
to mono and resampled with torchaudio), and the wav runs to the end of the
audio track.

Clips without an audio track (about half of UCF101) get no wav; with the
dataset's ``missing_audio='zeros'`` they get zero audio and
``audio_valid=False``, with ``'skip'`` they are dropped. Those clips and the
ones that failed (unreadable file or audio) are printed and written to
``OUT/extract_audio_report.tsv`` (``path<TAB>status<TAB>reason``, status
``no_audio`` or ``failed``). Existing wavs are kept unless ``--overwrite``.
The exit status is 1 when any clip failed, 0 otherwise (clips without audio
are expected).

Example:
    python tools/data/ucf101/extract_audio.py --video-root data/ucf101/videos \\
        --out data/ucf101/audio --workers 8
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import os.path as osp
import sys
import time
from typing import List, Optional, Tuple

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))))

VIDEO_EXTS = ('.avi', '.mp4', '.mkv', '.webm', '.mov', '.m4v', '.mpg', '.mpeg', '.flv')
REPORT_NAME = 'extract_audio_report.tsv'

_RESAMPLERS: dict = {}


def list_videos(video_root: str, ann_file: Optional[str] = None) -> List[str]:
    """Relative paths of the videos to process (sorted, or in list order)."""
    if ann_file is not None:
        rels = []
        with open(ann_file) as f:
            for line in f:
                fields = line.split()
                if fields:
                    rels.append(fields[0])
        return rels
    rels = []
    for dirpath, dirnames, filenames in os.walk(video_root):
        dirnames.sort()
        for name in sorted(filenames):
            if name.lower().endswith(VIDEO_EXTS):
                rels.append(osp.relpath(osp.join(dirpath, name), video_root))
    return rels


def audio_span(path: str) -> Tuple[bool, float]:
    """(has an audio track, end of the track in seconds on the video clock)."""
    import av

    with av.open(path, metadata_errors='ignore') as container:
        if not container.streams.audio:
            return False, 0.0
        astream = container.streams.audio[0]
        video_t0 = 0.0
        if container.streams.video:
            vs = container.streams.video[0]
            if vs.start_time is not None and vs.time_base is not None:
                video_t0 = float(vs.start_time * vs.time_base)
        end = None
        if astream.duration is not None and astream.time_base is not None:
            end = float((astream.start_time or 0) * astream.time_base
                        + astream.duration * astream.time_base)
        elif container.duration is not None:
            start = container.start_time or 0
            end = float(start + container.duration) / av.time_base
        if end is None:
            # no duration in the header: the last audio packet's end
            last = 0.0
            for packet in container.demux(astream):
                if packet.pts is not None and packet.time_base is not None:
                    last = max(last, float((packet.pts + (packet.duration or 0))
                                           * packet.time_base))
            end = last
        return True, max(0.0, end - video_t0)


def _resample(samples, rate: int, target: int):
    import torch
    import torchaudio
    if rate == target or samples.size == 0:
        return samples
    if rate not in _RESAMPLERS:
        _RESAMPLERS[rate] = torchaudio.transforms.Resample(rate, target)
    with torch.no_grad():
        return _RESAMPLERS[rate](torch.from_numpy(samples)).numpy()


def extract_one(task: Tuple[str, str, str, int, bool]) -> Tuple[str, str, str]:
    """Extract one clip. Returns (relative path, status, reason); status is
    'ok', 'exists', 'no_audio' or 'failed'."""
    rel, video_root, out_root, rate, overwrite = task
    src = osp.join(video_root, rel)
    dst = osp.join(out_root, osp.splitext(rel)[0] + '.wav')
    try:
        if not overwrite and osp.isfile(dst) and osp.getsize(dst) > 44:
            return rel, 'exists', ''
        if not osp.isfile(src):
            return rel, 'failed', 'video file not found'
        if osp.getsize(src) == 0:
            return rel, 'failed', 'empty (zero-byte) file'
        import av
        import numpy as np
        import soundfile as sf
        from mmav_mask.datasets.audio_io import AudioUnavailable, read_track_span
        try:
            has_audio, end = audio_span(src)
        except (av.error.FFmpegError, OSError) as e:
            return rel, 'failed', f'cannot open: {e}'
        if not has_audio:
            return rel, 'no_audio', 'no audio track'
        try:
            samples, src_rate = read_track_span(src, 0.0, end)
        except AudioUnavailable as e:
            return rel, 'failed', f'unreadable audio: {e}'
        wave = _resample(samples, src_rate, rate)
        wave = np.clip(wave, -1.0, 1.0)
        os.makedirs(osp.dirname(dst) or '.', exist_ok=True)
        tmp = dst + '.part'
        sf.write(tmp, wave, rate, subtype='PCM_16', format='WAV')
        os.replace(tmp, dst)
        return rel, 'ok', ''
    except Exception as e:  # noqa: BLE001 - one bad clip must not stop the others
        return rel, 'failed', f'{type(e).__name__}: {e}'


def _init_worker() -> None:
    import torch
    torch.set_num_threads(1)


def run(video_root: str, out: str, workers: int = 1, ann_file: Optional[str] = None,
        sample_rate: int = 16000, overwrite: bool = False, log=print) -> dict:
    """Extract all clips; returns counts and the problem rows."""
    rels = list_videos(video_root, ann_file)
    if not rels:
        raise SystemExit(f'error: no videos found under {video_root}'
                         + (f' for {ann_file}' if ann_file else ''))
    os.makedirs(out, exist_ok=True)
    # heavy imports once in the parent: forked workers inherit them
    import mmav_mask.datasets.audio_io  # noqa: F401
    import soundfile  # noqa: F401
    import torchaudio  # noqa: F401
    tasks = [(rel, video_root, out, sample_rate, overwrite) for rel in rels]
    results = []
    t0 = time.time()
    if workers <= 1:
        _init_worker()
        iterator = map(extract_one, tasks)
        pool = None
    else:
        pool = mp.get_context('fork').Pool(workers, initializer=_init_worker)
        iterator = pool.imap_unordered(extract_one, tasks, chunksize=4)
    try:
        for i, row in enumerate(iterator, start=1):
            results.append(row)
            rel, status, reason = row
            if status in ('no_audio', 'failed'):
                log(f'{status:8s} {rel}  {reason}')
            if i % 500 == 0:
                log(f'... {i}/{len(tasks)} clips ({time.time() - t0:.0f} s)')
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    order = {rel: i for i, rel in enumerate(rels)}
    results.sort(key=lambda r: order[r[0]])
    problems = [r for r in results if r[1] in ('no_audio', 'failed')]
    report = osp.join(out, REPORT_NAME)
    with open(report, 'w') as f:
        f.write('path\tstatus\treason\n')
        for rel, status, reason in problems:
            f.write(f"{rel}\t{status}\t{' '.join(reason.split())}\n")
    counts = {s: sum(r[1] == s for r in results) for s in ('ok', 'exists', 'no_audio', 'failed')}
    log(f"extracted {counts['ok']} wav files ({counts['exists']} already there), "
        f"{counts['no_audio']} clips without audio, {counts['failed']} failed, "
        f'of {len(results)} clips in {time.time() - t0:.1f} s; report: {report}')
    return dict(counts=counts, problems=problems, report=report)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description='Extract 16 kHz mono wav files from videos')
    p.add_argument('--video-root', required=True, help='root of the video tree')
    p.add_argument('--out', required=True, help='audio root (mirrors the video tree)')
    p.add_argument('--workers', type=int, default=min(8, os.cpu_count() or 1),
                   help='processes (default: min(8, CPUs))')
    p.add_argument('--ann-file', help='only the clips of this list ("relative/path [label]")')
    p.add_argument('--sample-rate', type=int, default=16000)
    p.add_argument('--overwrite', action='store_true', help='redo existing wav files')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    info = run(args.video_root, args.out, args.workers, args.ann_file, args.sample_rate,
               args.overwrite)
    return 1 if info['counts']['failed'] else 0


if __name__ == '__main__':
    sys.exit(main())
