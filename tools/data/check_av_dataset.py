"""Runs a config's data pipeline over every sample of a list and reports each clip.

The random augmentation of the pipeline is replaced by deterministic
equivalents first (``SampleFrames(test_mode=True)``, crops -> centre crops of
the same output size, ``Flip``/colour jitter removed), so two runs give the
same result. One line per clip::

    ok     data/demo/videos/DiscBeat/v_DiscBeat_g03_c01.mp4  audio=yes  rms=0.1032  video=(1, 3, 8, 64, 64)  audio_feat=(1, 128, 13)  duration=3.00s
    ERROR  data/demo/videos/DiscBeat/broken.mp4  VideoReadError: ...

then a summary; the exit status is 1 when any clip failed (2 when the
dataset itself cannot be built, e.g. a malformed list). Each clip is loaded in
a forked child process, so a decoder that crashes (segfault) or hangs on one
file yields an ``ERROR`` line for that file and the check goes on.

Examples:
    python tools/data/check_av_dataset.py configs/avmask_demo_tiny.py --split val
    python tools/data/check_av_dataset.py configs/avmask_ucf101.py --split train \\
        --data-root /data/ucf101 --dump /tmp/ucf_dump

With ``--dump DIR`` every sample that loads is written to
``DIR/<index>_<clip name>.npz`` with ``frames`` (uint8 (num_clips*clip_len, H,
W, C), as decoded and resized/cropped, before normalisation; row i is frame
``frame_inds[i]``), ``audio_feature`` (num_clips, L, F), ``frame_inds``,
``fps``, ``audio_window`` (num_clips, 2) and ``audio_window_start`` /
``audio_window_end`` (num_clips,) in seconds, ``audio`` (the window waveform,
when the source is not a feature file), ``audio_valid``, ``audio_sample_rate``,
``clip_len``, ``total_frames``, ``duration``, ``label`` and ``filename``.
"""
from __future__ import annotations

import argparse
import copy
import inspect
import os
import os.path as osp
import random
import re
import sys
import traceback
from typing import Dict, List, Optional, Tuple

import numpy as np

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

import mmav_mask  # noqa: E402,F401  (compat fixes + registration before configs load)

# transforms that only add random appearance changes: dropped
RANDOM_ONLY = ('Flip', 'ColorJitter', 'ImgAug', 'RandomErasing')
# torchvision / pytorchvideo wrappers: dropped when their op is random
WRAPPERS = ('TorchVisionWrapper', 'PytorchVideoWrapper')
RANDOM_OPS = ('RandAugment', 'AutoAugment', 'AugMix', 'TrivialAugmentWide', 'ColorJitter')
# transforms after which the frames are no longer (T, H, W, C) images
FORMATTING = ('FormatShape', 'FormatAudioShape', 'PackActionInputs', 'PackAVInputs')
PACKING = ('PackActionInputs', 'PackAVInputs')
SILENT_RMS = 1e-4


def _type_name(t) -> str:
    kind = t.get('type') if isinstance(t, dict) else type(t).__name__
    return kind if isinstance(kind, str) else getattr(kind, '__name__', str(kind))


def _random_op(op) -> bool:
    name = op if isinstance(op, str) else type(op).__name__
    return name.startswith('Random') or name in RANDOM_OPS


def _accepts_test_mode(kind: str) -> bool:
    from mmaction.registry import TRANSFORMS
    cls = TRANSFORMS.get(kind)
    if cls is None:
        return False
    try:
        return 'test_mode' in inspect.signature(cls.__init__).parameters
    except (TypeError, ValueError):
        return False


def deterministic_pipeline(pipeline: List) -> Tuple[List, List[str]]:
    """Replace random augmentation by deterministic equivalents.

    - frame samplers with a ``test_mode`` argument (``SampleFrames``,
      ``DenseSampleFrames``, ``UniformSample``...) get ``test_mode=True``;
    - ``MultiScaleCrop(input_size=S)`` and ``RandomCrop(size=S)`` ->
      ``CenterCrop(crop_size=S)``;
    - ``RandomResizedCrop`` -> the centre square of the short side (the crop
      it falls back to; the following ``Resize`` sets the output size);
    - ``RandomRescale(scale_range=(a, b))`` -> ``Resize(scale=(-1, (a+b)//2))``;
    - ``Flip``, ``ColorJitter``, ``ImgAug``, ``RandomErasing`` and
      ``TorchVisionWrapper``/``PytorchVideoWrapper`` with a random op
      (``RandAugment``, ``Random*``, ...) are removed.

    Mask generators stay (the checker seeds the RNGs per sample).

    Returns:
        (new pipeline, list of human-readable changes).
    """
    out, changes = [], []
    for t in pipeline:
        if not isinstance(t, dict):
            out.append(t)
            continue
        t = copy.deepcopy(dict(t))
        kind = _type_name(t)
        if kind in RANDOM_ONLY or (kind in WRAPPERS and _random_op(t.get('op'))):
            changes.append(f'removed {kind}' + (f"({t['op']})" if kind in WRAPPERS else ''))
            continue
        if kind == 'MultiScaleCrop':
            size = t['input_size']
            out.append(dict(type='CenterCrop', crop_size=size))
            changes.append(f'MultiScaleCrop -> CenterCrop(crop_size={size})')
            continue
        if kind == 'RandomCrop':
            out.append(dict(type='CenterCrop', crop_size=t['size']))
            changes.append(f"RandomCrop -> CenterCrop(crop_size={t['size']})")
            continue
        if kind == 'RandomResizedCrop':
            # area 1 and aspect 1: the square of the whole frame area fits only a
            # square frame (offset 0); otherwise every attempt fails and mmaction
            # takes its deterministic fallback, the centre square of the short side
            t.update(area_range=(1.0, 1.0), aspect_ratio_range=(1.0, 1.0))
            out.append(t)
            changes.append('RandomResizedCrop -> centre square crop')
            continue
        if kind == 'RandomRescale':
            lo, hi = t['scale_range']
            short = int((lo + hi) // 2)
            out.append(dict(type='Resize', scale=(-1, short)))
            changes.append(f'RandomRescale -> Resize(scale=(-1, {short}))')
            continue
        if 'test_mode' not in t and _accepts_test_mode(kind) or t.get('test_mode') is False:
            t['test_mode'] = True
            changes.append(f'{kind}(test_mode=True)')
        out.append(t)
    return out, changes


def _unwrap_dataset(ds_cfg: Dict) -> Dict:
    """RepeatDataset/ClassBalancedDataset(dataset=...) -> the inner dataset."""
    while 'pipeline' not in ds_cfg and isinstance(ds_cfg.get('dataset'), dict):
        ds_cfg = ds_cfg['dataset']
    return ds_cfg


def _under(path: str, root: str) -> bool:
    path, root = osp.normpath(path), osp.normpath(root)
    return path == root or path.startswith(root + os.sep)


def apply_data_root(ds_cfg: Dict, root: str, cfg_root: Optional[str]) -> None:
    """Point the dataset's list and media folders at ``root``.

    Paths under the config's ``data_root`` keep their place below ``root``
    (``data/demo/videos`` -> ``ROOT/videos``); others become
    ``ROOT/<list file name>``, ``ROOT/videos`` (or ``ROOT`` when it has no
    ``videos`` folder) and ``ROOT/audio`` (or the video folder); absolute
    paths outside the config's ``data_root`` stay. A config whose
    ``data_root`` is the video folder (as MMAction2's own) gets
    ``ROOT/videos`` when that exists. A dataset
    with its own ``data_root`` key gets ``root`` there (BaseDataset joins
    relative paths with it).
    """
    if ds_cfg.get('data_root'):
        ds_cfg['data_root'] = root
        return

    def remap(path, default):
        if path and cfg_root and _under(path, cfg_root):
            rel = osp.relpath(path, cfg_root)
            return root if rel == '.' else osp.join(root, rel)
        if path and osp.isabs(path):
            return path  # an explicit absolute path (e.g. from --cfg-options) stays
        return default

    ann = ds_cfg.get('ann_file')
    if ann:
        ds_cfg['ann_file'] = remap(ann, osp.join(root, osp.basename(ann)))
    prefix = dict(ds_cfg.get('data_prefix') or {})
    videos = osp.join(root, 'videos')
    prefix['video'] = remap(prefix.get('video'), videos if osp.isdir(videos) else root)
    if osp.normpath(prefix['video']) == osp.normpath(root) and osp.isdir(videos):
        # the config's data_root is its video folder ('data/ucf101/videos', as in
        # MMAction2's configs) and ROOT is a dataset folder holding videos/
        prefix['video'] = videos
    if 'audio' in prefix:
        audio = osp.join(root, 'audio')
        prefix['audio'] = remap(prefix['audio'], audio if osp.isdir(audio) else prefix['video'])
    ds_cfg['data_prefix'] = prefix


def build_dataset(cfg, split: str, ann_file: Optional[str] = None,
                  data_root: Optional[str] = None):
    """The config's dataset for ``split`` with a deterministic pipeline.

    Policies that would drop or stop on clips at load time are relaxed so
    every listed clip is visited: ``bad_video='error'`` (errors are caught per
    clip), ``missing_audio='zeros'`` (the original policy is returned), no
    probing.

    Returns:
        (dataset, original missing_audio policy or None, pipeline changes).
    """
    from mmaction.registry import DATASETS
    from mmav_mask.datasets import AVVideoDataset

    key = f'{split}_dataloader'
    if key not in cfg:
        raise KeyError(f'the config has no {key}')
    ds_cfg = _unwrap_dataset(copy.deepcopy(cfg[key]['dataset']).to_dict()
                             if hasattr(cfg[key]['dataset'], 'to_dict')
                             else copy.deepcopy(dict(cfg[key]['dataset'])))
    if data_root is not None:
        apply_data_root(ds_cfg, data_root, cfg.get('data_root'))
    if ann_file is not None:
        ds_cfg['ann_file'] = osp.abspath(ann_file)
    ds_cfg['pipeline'], changes = deterministic_pipeline(ds_cfg.get('pipeline', []))
    ds_cfg['test_mode'] = True
    ds_cfg.pop('lazy_init', None)
    cls = DATASETS.get(ds_cfg['type']) if isinstance(ds_cfg['type'], str) else ds_cfg['type']
    policy = None
    if cls is not None and issubclass(cls, AVVideoDataset):
        policy = ds_cfg.get('missing_audio', 'zeros')
        ds_cfg.update(missing_audio='zeros', bad_video='error', probe_files=False)
    return DATASETS.build(ds_cfg), policy, changes


def _seed(idx: int) -> None:
    import torch
    random.seed(idx)
    np.random.seed(idx % (2 ** 32))
    torch.manual_seed(idx)


def run_sample(dataset, idx: int) -> Dict:
    """Run the pipeline on sample ``idx``, keeping the intermediate results.

    Returns:
        dict with ``info`` (the sample's data info), ``frames`` (stacked
        images just before formatting), ``results`` (the last dict before
        packing) and ``packed`` (the final output or None).
    """
    _seed(idx)
    results = dataset.get_data_info(idx)
    record: Dict = dict(info=dict(results), frames=None, results=None, packed=None)
    for t in dataset.pipeline.transforms:
        kind = type(t).__name__
        if kind in FORMATTING and record['frames'] is None and 'imgs' in results:
            imgs = results['imgs']
            record['frames'] = np.stack(imgs) if isinstance(imgs, list) else np.asarray(imgs)
        if kind in PACKING:
            record['results'] = dict(results)
        out = t(results)
        if out is None:
            raise RuntimeError(f'{kind} returned None (the sample was rejected)')
        results = out
    if record['results'] is None:
        record['results'] = dict(results)
    else:
        record['packed'] = results
    if record['frames'] is None and 'imgs' in record['results']:
        imgs = record['results']['imgs']
        record['frames'] = np.stack(imgs) if isinstance(imgs, list) else np.asarray(imgs)
    return record


def _shape(x) -> Optional[tuple]:
    return tuple(x.shape) if x is not None and hasattr(x, 'shape') else None


def summarise(record: Dict) -> Dict:
    """Per-clip facts for the report line and the dump."""
    res = record['results']
    packed = record['packed']
    inputs = packed.get('inputs', {}) if isinstance(packed, dict) else {}
    video = inputs.get('imgs') if isinstance(inputs, dict) else None
    if video is None:
        video = res.get('imgs')
    audio_feat = inputs.get('audio') if isinstance(inputs, dict) else None
    if audio_feat is None:
        audio_feat = res.get('audio_feature')
    wave = res.get('audio')
    rms = (float(np.sqrt(np.mean(np.square(np.asarray(wave, dtype=np.float64)))))
           if wave is not None and np.size(wave) else None)
    fps = res.get('avg_fps') or res.get('fps')
    total = res.get('total_frames')
    duration = float(total) / float(fps) if total and fps else None
    return dict(has_audio=bool(res.get('audio_valid', wave is not None)), rms=rms,
                video_shape=_shape(video), audio_shape=_shape(audio_feat),
                fps=fps, duration=duration)


def dump_sample(path: str, record: Dict, facts: Dict) -> None:
    res = record['results']
    window = np.asarray(res.get('audio_window', np.zeros((0, 2))), dtype=np.float64)
    window = window.reshape(-1, 2)
    arrays = dict(
        frames=np.asarray(record['frames']) if record['frames'] is not None
        else np.zeros((0, 0, 0, 0), np.uint8),
        audio_feature=np.asarray(res.get('audio_feature', np.zeros((0, 0, 0))),
                                 dtype=np.float32),
        frame_inds=np.asarray(res.get('frame_inds', []), dtype=np.int64).reshape(-1),
        fps=np.float64(facts['fps'] or 0.0),
        audio_window=window,
        audio_window_start=window[:, 0].copy(),
        audio_window_end=window[:, 1].copy(),
        audio_valid=np.bool_(facts['has_audio']),
        audio_sample_rate=np.int64(res.get('audio_sample_rate', 0)),
        clip_len=np.int64(res.get('clip_len', 0)),
        total_frames=np.int64(res.get('total_frames', 0)),
        duration=np.float64(facts['duration'] or 0.0),
        label=np.asarray(res.get('label', -1)),
        filename=np.str_(record['info'].get('filename', '')),
    )
    if res.get('audio') is not None:
        arrays['audio'] = np.asarray(res['audio'], dtype=np.float32)
    tmp = path + '.part.npz'
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def _dump_name(idx: int, filename: str) -> str:
    stem = osp.splitext(osp.basename(filename))[0] or 'clip'
    return f'{idx:06d}_{re.sub(r"[^A-Za-z0-9_.-]", "_", stem)}.npz'


def _video_problem(filename: str) -> Optional[str]:
    """A short reason when the video file itself is unreadable, else None."""
    from mmav_mask.datasets.media_probe import probe_video
    try:
        return probe_video(filename)[0]
    except Exception as e:  # noqa: BLE001 - the probe is only for a better message
        return f'{type(e).__name__}: {e}'


def check_clip(dataset, idx: int, policy: Optional[str], dump: Optional[str],
               verbose: bool = False) -> Dict:
    """Load sample ``idx`` (in the checker's child process).

    Returns:
        ``dict(ok=True, facts=...)`` (facts as :func:`summarise`, JSON types)
        or ``dict(ok=False, reason=...)``.
    """
    filename = dataset.get_data_info(idx).get('filename', f'sample {idx}')
    try:
        record = run_sample(dataset, idx)
        facts = summarise(record)
        if not facts['has_audio'] and policy == 'error':
            raise RuntimeError("no usable audio and the config has missing_audio='error'")
        if dump:
            dump_sample(osp.join(dump, _dump_name(idx, filename)), record, facts)
    except Exception as e:  # noqa: BLE001 - report and go on with the next clip
        reason = f'{type(e).__name__}: {e}'
        video_error = _video_problem(filename)
        if video_error:
            reason = f'unreadable video: {video_error} [{reason}]'
        if verbose:
            traceback.print_exc()
        return dict(ok=False, reason=reason)
    facts = {k: (list(v) if isinstance(v, tuple) else
                 float(v) if isinstance(v, (np.floating, np.integer)) else v)
             for k, v in facts.items()}
    return dict(ok=True, facts=facts)


def format_line(filename: str, facts: Dict) -> str:
    rms = f"{facts['rms']:.4f}" if facts['rms'] is not None else '-'
    silent = '  (silent)' if (facts['has_audio'] and facts['rms'] is not None
                              and facts['rms'] < SILENT_RMS) else ''
    dur = f"{facts['duration']:.2f}s" if facts['duration'] is not None else '-'
    return (f"ok     {filename}  audio={'yes' if facts['has_audio'] else 'no'}  rms={rms}  "
            f"video={facts['video_shape']}  audio_feat={facts['audio_shape']}  "
            f'duration={dur}{silent}')


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(
        description='Check that every clip of a config\'s list decodes, with aligned audio')
    p.add_argument('config', help='config file')
    p.add_argument('--split', choices=['train', 'val', 'test'], default='train',
                   help='which dataloader\'s dataset to check (default: train)')
    p.add_argument('--ann-file', help='check this list instead of the config\'s')
    p.add_argument('--data-root', help='data root replacing the config\'s (list and media '
                   'paths under the config\'s data_root move below it)')
    p.add_argument('--dump', metavar='DIR', help='write one .npz per sample here')
    p.add_argument('--cfg-options', nargs='+', action=DictAction,
                   help='override config entries, e.g. val_dataloader.dataset.audio_source=sidecar')
    p.add_argument('--verbose', action='store_true', help='print tracebacks of failures')
    p.add_argument('--timeout', type=float, default=300.0,
                   help='seconds one clip may take before it is reported as hung '
                   '(default: 300)')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    try:
        dataset, policy, changes = build_dataset(cfg, args.split, args.ann_file,
                                                 args.data_root)
    except Exception as e:  # noqa: BLE001 - a list/config problem stops everything
        print(f'ERROR  cannot build the {args.split} dataset: {type(e).__name__}: {e}',
              flush=True)
        return 2
    print(f'checking {len(dataset)} clips of {dataset.ann_file} ({args.split} split)',
          flush=True)
    prefix = getattr(dataset, 'data_prefix', {}) or {}
    if prefix:
        print('data: ' + ', '.join(f'{k}={v}' for k, v in prefix.items() if v) +
              (f', audio_source={dataset.audio_source}' if hasattr(dataset, 'audio_source')
               else ''), flush=True)
    if changes:
        print('deterministic pipeline: ' + '; '.join(changes), flush=True)
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)

    from mmav_mask.datasets.isolated_decode import run_isolated

    counts = dict(ok=0, failed=0, no_audio=0, silent=0)

    def report(idx: int, ok: bool, value) -> None:
        filename = dataset.get_data_info(idx).get('filename', f'sample {idx}')
        if ok and value.get('ok'):
            facts = {k: tuple(v) if isinstance(v, list) else v
                     for k, v in value['facts'].items()}
            counts['ok'] += 1
            counts['no_audio'] += not facts['has_audio']
            counts['silent'] += bool(facts['has_audio'] and facts['rms'] is not None
                                     and facts['rms'] < SILENT_RMS)
            print(format_line(filename, facts), flush=True)
            return
        counts['failed'] += 1
        reason = value['reason'] if ok else (
            f'{value} while loading it (the decoder would have killed this process)')
        reason = ' '.join(str(reason).split())
        if len(reason) > 400:
            reason = reason[:400] + '...'
        print(f'ERROR  {filename}  {reason}', flush=True)

    # every clip runs in a forked child, so a decoder crash (segfault) or hang
    # on one file costs only that clip's line, never the rest of the report
    run_isolated(lambda idx: check_clip(dataset, idx, policy, args.dump, args.verbose),
                 range(len(dataset)), timeout_s=args.timeout, on_result=report)
    n_ok, n_failed = counts['ok'], counts['failed']
    n_no_audio, n_silent = counts['no_audio'], counts['silent']

    total = n_ok + n_failed
    note = ''
    if policy == 'skip' and n_no_audio:
        note = " (missing_audio='skip': training would drop them)"
    print(f'summary: {total} clips: {n_ok} ok, {n_failed} failed, {n_no_audio} without audio'
          f'{note}, {n_silent} with silent audio', flush=True)
    if args.dump:
        print(f'dumped {n_ok} samples to {args.dump}', flush=True)
    return 1 if n_failed else 0


if __name__ == '__main__':
    sys.exit(main())
