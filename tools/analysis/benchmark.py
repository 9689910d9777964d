"""Training-step and data-pipeline throughput: audio-visual vs video-only.

    python tools/analysis/benchmark.py CONFIG [--batch-size B] [--iters N]
        [--device cpu|cuda] [--repeats R] [--data-samples K] [--cfg-options k=v ...]

In ONE process it measures

* model: training-step throughput (clips/s; forward, backward, optimizer step
  through ``model.train_step`` and the config's optimizer wrapper) and peak
  memory of the config's model and of the same model with ``fusion='none'``
  (``NoFusion``, no audio backbone: VideoMAE), on the same batch shape;
* data: clips/s of the config's training pipeline against MMAction2's
  video-only pipeline (the config's MMAction2 transforms: DecordInit,
  SampleFrames, DecordDecode and the same resize/crop/flip/format, packed with
  PackActionInputs) on the same files, in the main process (one worker).

Variants are interleaved (AV, video-only, AV, video-only, ...) over
``--repeats`` rounds after a warm-up, and the median round is reported, so
machine noise hits both alike. Peak memory is ``torch.cuda.max_memory_allocated``
on CUDA; on CPU it is the peak resident-set growth during the measured steps
(sampled every millisecond, glibc's mmap threshold pinned so freed tensors go
back to the system).

Prints a table (one ``| name | value | unit |`` row per figure) and the ratios
against the targets (model AV / video-only >= 0.85, data >= 0.80).
"""
from __future__ import annotations

import argparse
import copy
import ctypes
import os
import os.path as osp
import platform
import statistics
import sys
import threading
import time
from typing import Callable, Dict, List, Optional, Tuple

import torch

MODEL_TARGET = 0.85
DATA_TARGET = 0.80


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--batch-size', type=int, default=None,
                        help='clips per step (default: the config train batch size)')
    parser.add_argument('--iters', type=int, default=10, help='measured steps per round')
    parser.add_argument('--warmup', type=int, default=2, help='unmeasured steps per variant')
    parser.add_argument('--repeats', type=int, default=3, help='interleaved rounds')
    parser.add_argument('--device', choices=['cpu', 'cuda'], default=None)
    parser.add_argument('--data-samples', type=int, default=8,
                        help='files per data round (the first K of the training list)')
    parser.add_argument('--skip-model', action='store_true')
    parser.add_argument('--skip-data', action='store_true')
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    parser.add_argument('--amp', choices=['config', 'none', 'fp16', 'bf16'], default='config',
                        help="mixed precision (CUDA): the config's optim_wrapper, off, or "
                             "AmpOptimWrapper with float16 / bfloat16")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. model.backbone.with_cp=True')
    return parser.parse_args(argv)


# ---------------------------------------------------------------- memory
class _RssPeak:
    """Peak RSS growth of this process over a ``with`` block (CPU)."""

    def __init__(self, period: float = 1e-3) -> None:
        self.period = period
        self.peak = 0
        self._stop = threading.Event()
        self._page = os.sysconf('SC_PAGE_SIZE') if hasattr(os, 'sysconf') else 4096

    def _rss(self) -> int:
        try:
            with open('/proc/self/statm') as f:
                return int(f.read().split()[1]) * self._page
        except OSError:  # not Linux: fall back to the lifetime maximum
            import resource
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._rss())
            time.sleep(self.period)

    def __enter__(self):
        self.base = self._rss()
        self.peak = self.base
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())

    @property
    def growth(self) -> int:
        return self.peak - self.base


def _pin_malloc() -> None:
    """glibc: fixed 64 KiB mmap threshold, so big frees lower the RSS again."""
    if not sys.platform.startswith('linux'):
        return
    try:
        libc = ctypes.CDLL('libc.so.6')
        libc.mallopt(-3, 64 * 1024)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 128 * 1024)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):
        pass


# ---------------------------------------------------------------- model
def video_only_model_cfg(model_cfg: dict) -> dict:
    cfg = copy.deepcopy(model_cfg)
    cfg['fusion'] = dict(type='NoFusion')
    cfg['audio_backbone'] = None
    return cfg


def _describe_model(cfg: dict) -> str:
    fusion = cfg.get('fusion') or {}
    return fusion.get('type', 'NoFusion') if isinstance(fusion, dict) else type(fusion).__name__


def _find_transform(pipeline: List[dict], names) -> Optional[dict]:
    for t in pipeline or []:
        if isinstance(t, dict) and t.get('type') in names:
            return t
    return None


def synthetic_batch(model, pipeline: List[dict], batch_size: int) -> dict:
    """A packed batch of the config's shape, when no data file is readable."""
    backbone = model.backbone
    t_grid, h_grid, w_grid = backbone.grid_size
    c = backbone.in_channels
    t = t_grid * backbone.tubelet_size
    h, w = h_grid * backbone.patch_size, w_grid * backbone.patch_size
    mask_cfg = _find_transform(pipeline, ('TubeMaskGenerator', )) or {}
    ratio = float(mask_cfg.get('mask_ratio', 0.9))
    num_masked = int(ratio * h_grid * w_grid)
    feat = _find_transform(pipeline, ('AudioMFCC', 'AudioFbank')) or {}
    rows = int(feat.get('num_rows') or 100)
    dim = int(feat.get('n_mfcc', feat.get('num_mel_bins', 13 if feat.get('type') != 'AudioFbank'
                                          else 128)))
    gen = torch.Generator().manual_seed(0)
    samples = []
    for _ in range(batch_size):
        flat = torch.zeros(h_grid * w_grid, dtype=torch.bool)
        flat[torch.randperm(h_grid * w_grid, generator=gen)[:num_masked]] = True
        inputs = dict(imgs=torch.randint(0, 256, (1, c, t, h, w), generator=gen,
                                         dtype=torch.uint8),
                      mask=flat.view(1, h_grid, w_grid).expand(t_grid, -1, -1).clone(),
                      audio=torch.randn(1, rows, dim, generator=gen),
                      audio_valid=torch.tensor(True))
        samples.append(dict(inputs=inputs))
    from mmengine.dataset import pseudo_collate
    from mmaction.structures import ActionDataSample
    batch = pseudo_collate(samples)
    batch['data_samples'] = [ActionDataSample() for _ in range(batch_size)]
    return batch


def _build_optim_wrapper(model, cfg, device: str, amp: str = 'config'):
    from mmengine.optim import build_optim_wrapper
    optim_cfg = copy.deepcopy(cfg.get('optim_wrapper',
                                      dict(optimizer=dict(type='AdamW', lr=1e-4))))
    if amp in ('fp16', 'bf16'):
        optim_cfg.update(type='AmpOptimWrapper',
                         dtype='bfloat16' if amp == 'bf16' else 'float16')
    if (device == 'cpu' or amp == 'none') and optim_cfg.get('type') == 'AmpOptimWrapper':
        optim_cfg['type'] = 'OptimWrapper'  # mmengine's AMP wrapper needs an accelerator
        for key in ('dtype', 'loss_scale', 'use_fsdp'):
            optim_cfg.pop(key, None)
    return build_optim_wrapper(model, optim_cfg)


class ModelVariant:

    def __init__(self, name: str, model_cfg: dict, cfg, device: str, batch: dict,
                 amp: str = 'config') -> None:
        from mmaction.registry import MODELS
        self.name = name
        self.device = device
        self.model = MODELS.build(model_cfg).to(device)
        self.model.train()
        self.optim_wrapper = _build_optim_wrapper(self.model, cfg, device, amp)
        self.batch = batch
        self.times: List[float] = []
        self.peaks: List[int] = []
        self.loss = float('nan')

    def steps(self, n: int) -> None:
        for _ in range(n):
            log_vars = self.model.train_step(copy.copy(self.batch), self.optim_wrapper)
        if self.device == 'cuda':
            torch.cuda.synchronize()
        self.loss = float(log_vars['loss'].detach()) if torch.is_tensor(log_vars['loss']) else float(log_vars['loss'])

    def measure(self, n: int) -> None:
        if self.device == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            start = time.perf_counter()
            self.steps(n)
            self.times.append(time.perf_counter() - start)
            self.peaks.append(torch.cuda.max_memory_allocated())
        else:
            with _RssPeak() as rss:
                start = time.perf_counter()
                self.steps(n)
                self.times.append(time.perf_counter() - start)
            self.peaks.append(rss.growth)


def _real_batch(cfg, model, batch_size: int) -> Optional[dict]:
    """One sample of the training pipeline tiled to the batch size, or None."""
    try:
        from mmaction.registry import DATASETS
        from mmengine.dataset import pseudo_collate
        dataset = DATASETS.build(copy.deepcopy(cfg.train_dataloader.dataset))
        sample = dataset[0]
    except Exception as err:  # no data on this machine: synthetic inputs
        print(f'[benchmark] model inputs are synthetic ({type(err).__name__}: '
              f'{str(err).splitlines()[0][:120]})', flush=True)
        return None
    return pseudo_collate([copy.deepcopy(sample) for _ in range(batch_size)])


def benchmark_model(cfg, args, device: str, batch_size: int) -> Dict[str, float]:
    from mmaction.registry import MODELS
    torch.manual_seed(0)
    pipeline = cfg.train_dataloader.dataset.get('pipeline', [])
    av_cfg = copy.deepcopy(cfg.model)
    vo_cfg = video_only_model_cfg(cfg.model)
    probe = MODELS.build(copy.deepcopy(av_cfg))
    batch = _real_batch(cfg, probe, batch_size) or synthetic_batch(probe, pipeline, batch_size)
    del probe
    variants = [ModelVariant(f'model AV ({_describe_model(av_cfg)})', av_cfg, cfg, device,
                             batch, args.amp),
                ModelVariant('model video-only (NoFusion)', vo_cfg, cfg, device, batch,
                             args.amp)]
    for v in variants:
        v.steps(args.warmup)
    for _ in range(args.repeats):
        for v in variants:
            v.measure(args.iters)
    out = {}
    for v in variants:
        out[v.name] = dict(clips_per_s=batch_size * args.iters / statistics.median(v.times),
                           peak_mib=max(v.peaks) / 2 ** 20, loss=v.loss)
    return out


# ---------------------------------------------------------------- data
_MMACTION_PACKERS = {'PackAVInputs': dict(type='PackActionInputs')}


def video_only_pipeline(pipeline: List[dict]) -> List[dict]:
    """MMAction2's video-only version of a pipeline: its MMAction2 / MMCV
    transforms in order (decode, sample, resize, crop, flip, format), the
    audio-visual packer replaced by ``PackActionInputs``; the plugin's audio
    and mask transforms dropped."""
    from mmaction.registry import TRANSFORMS
    out = []
    for t in pipeline:
        name = t['type'] if isinstance(t['type'], str) else t['type'].__name__
        if name in _MMACTION_PACKERS:
            out.append(copy.deepcopy(_MMACTION_PACKERS[name]))
            continue
        cls = TRANSFORMS.get(name)
        if cls is None:
            raise KeyError(f'unknown transform {name}')
        if not cls.__module__.startswith('mmav_mask'):
            out.append(copy.deepcopy(t))
    if not any(t['type'] == 'PackActionInputs' for t in out):
        out.append(dict(type='PackActionInputs'))
    return out


def benchmark_data(cfg, args) -> Dict[str, dict]:
    from mmaction.registry import DATASETS
    ds_cfg = copy.deepcopy(cfg.train_dataloader.dataset)
    av_pipeline = ds_cfg['pipeline']
    vo_pipeline = video_only_pipeline(av_pipeline)
    datasets = {}
    for name, pipeline in (('data AV pipeline', av_pipeline),
                           ('data video-only pipeline (MMAction2)', vo_pipeline)):
        one = copy.deepcopy(ds_cfg)
        one['pipeline'] = pipeline
        datasets[name] = DATASETS.build(one)
    sizes = {len(d) for d in datasets.values()}
    if len(sizes) != 1:
        raise RuntimeError(f'the two datasets list different files: {sizes}')
    indices = list(range(min(args.data_samples, sizes.pop())))
    if not indices:
        raise RuntimeError('the training list is empty')
    files = {name: [d.get_data_info(i)['filename'] for i in indices]
             for name, d in datasets.items()}
    first, second = files.values()
    assert first == second, 'both pipelines must read the same files'
    times = {name: [] for name in datasets}
    for name, d in datasets.items():  # warm-up: file cache, lazy imports
        d[indices[0]]
    for _ in range(args.repeats):
        for name, d in datasets.items():
            start = time.perf_counter()
            for i in indices:
                d[i]
            times[name].append(time.perf_counter() - start)
    print(f'[benchmark] data: {len(indices)} files per round, e.g. {first[0]}', flush=True)
    return {name: dict(clips_per_s=len(indices) / statistics.median(t))
            for name, t in times.items()}


# ---------------------------------------------------------------- main
def format_table(rows: List[Tuple[str, float, str]]) -> str:
    lines = ['| figure | value | unit |', '|---|---|---|']
    for name, value, unit in rows:
        lines.append(f'| {name} | {value:.4g} | {unit} |')
    return '\n'.join(lines)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    import mmav_mask  # noqa: F401
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    from mmengine.logging import MMLogger
    MMLogger.get_instance(f'benchmark_{os.getpid()}', log_level='WARNING')  # quiet builders
    _pin_malloc()
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if device == 'cuda' and not torch.cuda.is_available():
        raise SystemExit('--device cuda: no CUDA device')
    if args.threads:
        torch.set_num_threads(args.threads)
    batch_size = args.batch_size or int(cfg.train_dataloader.get('batch_size', 2))
    machine = (torch.cuda.get_device_name() if device == 'cuda' else
               f'{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, '
               f'{torch.get_num_threads()} torch threads')
    print(f'[benchmark] config={args.config} device={device} ({machine}) '
          f'batch={batch_size} iters={args.iters} repeats={args.repeats} '
          f'amp={args.amp if device == "cuda" else "none (CPU)"} torch={torch.__version__}',
          flush=True)
    rows: List[Tuple[str, float, str]] = []
    ratios: List[Tuple[str, float, float]] = []
    if not args.skip_model:
        res = benchmark_model(cfg, args, device, batch_size)
        mem_unit = 'MiB (CUDA peak allocated)' if device == 'cuda' else 'MiB (peak RSS growth)'
        for name, r in res.items():
            rows.append((f'{name} throughput', r['clips_per_s'], 'clips/s'))
            rows.append((f'{name} peak memory', r['peak_mib'], mem_unit))
        av, vo = list(res.values())
        ratios.append(('model AV / video-only throughput',
                       av['clips_per_s'] / vo['clips_per_s'], MODEL_TARGET))
        rows.append(('model AV / video-only peak memory',
                     av['peak_mib'] / max(vo['peak_mib'], 1e-9), 'ratio'))
    if not args.skip_data:
        res = benchmark_data(cfg, args)
        for name, r in res.items():
            rows.append((f'{name} throughput', r['clips_per_s'], 'clips/s'))
        av, vo = list(res.values())
        ratios.append(('data AV / video-only throughput',
                       av['clips_per_s'] / vo['clips_per_s'], DATA_TARGET))
    for name, value, target in ratios:
        rows.append((name, value, f'ratio (target >= {target}: '
                                  f'{"met" if value >= target else "NOT met"})'))
    print(format_table(rows), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
