"""Training-step and data-pipeline throughput: audio-visual vs video-only.

    python tools/analysis/benchmark.py CONFIG [--batch-size B] [--iters N]
        [--device cpu|cuda] [--repeats R] [--data-samples K] [--data-workers W]
        [--grid [--grid-masks ...] [--grid-frames ...] [--grid-batches ...]]
        [--peak-tflops P] [--cfg-options k=v ...]

In ONE process it measures

* model: training-step throughput (clips/s; forward, backward, optimizer step
  through ``model.train_step`` and the config's optimizer wrapper) and peak
  memory of the config's model and of the same model with ``fusion='none'``
  (``NoFusion``, no audio backbone: VideoMAE), on the same batch shape;
* data: clips/s of the config's training pipeline against MMAction2's
  video-only pipeline (the config's MMAction2 transforms: DecordInit,
  SampleFrames, DecordDecode and the same resize/crop/flip/format, packed with
  PackActionInputs) on the same files, in the main process (``--data-workers
  0``) or through a DataLoader with W worker processes.

Variants are interleaved (AV, video-only, AV, video-only, ...) over
``--repeats`` rounds after a warm-up, and the median round is reported, so
machine noise hits both alike. Peak memory is ``torch.cuda.max_memory_allocated``
on CUDA; on CPU it is the peak resident-set growth during the measured steps
(sampled every millisecond, glibc's mmap threshold pinned so freed tensors go
back to the system).

Every model variant's first warm-up step runs under
``torch.utils.flop_counter.FlopCounterMode`` (forward + backward FLOPs; the
optimizer's element-wise update is not counted) and under a recorder of the
``scaled_dot_product_attention`` backend that ran, so the table also gives
FLOPs per step and the achieved TFLOP/s; on CUDA with bf16 also the model
FLOPs utilisation against the device's dense bf16 peak (:data:`BF16_PEAK_FLOPS`,
or ``--peak-tflops``).

``--grid`` measures the training-step time of AV and video-only over mask
ratio x frames x batch (default 0.75/0.9/0.95 x 8/16 x 1/2/8) on synthetic
inputs of the config's shape (audio rows and tokens scaled with the frames),
interleaved per cell in one process, and prints one table with the
AV / video-only step-time ratio against :data:`GRID_TARGET`.

Prints a table (one ``| name | value | unit |`` row per figure) and the ratios
against the targets (model AV / video-only >= 0.85, data >= 0.90 in the main
process and >= 0.95 with DataLoader workers).
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
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import torch

MODEL_TARGET = 0.85
DATA_TARGETS = (0.90, 0.95)  # data AV / video-only: in the main process, with workers
GRID_TARGET = 1.15  # AV / video-only step time, every grid cell
GRID_MASKS = (0.75, 0.9, 0.95)
GRID_FRAMES = (8, 16)
GRID_BATCHES = (1, 2, 8)
# Dense (no sparsity) bf16 tensor-core peaks in FLOP/s from NVIDIA's data
# sheets; matched against torch.cuda.get_device_name(), most specific first.
BF16_PEAK_FLOPS = (
    ('H200 NVL', 835e12),
    ('H200', 989e12),
    ('H100 NVL', 835e12),
    ('H100 PCIe', 756e12),
    ('H100', 989e12),      # SXM / HBM3
    ('A100', 312e12),      # SXM and PCIe
)


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--batch-size', type=int, default=None,
                        help='clips per step (default: the config train batch size)')
    parser.add_argument('--iters', type=int, default=None,
                        help='measured steps per round (default 10; --grid: 1)')
    parser.add_argument('--warmup', type=int, default=None,
                        help='unmeasured steps per variant (default 2; --grid: 1 per cell)')
    parser.add_argument('--repeats', type=int, default=None,
                        help='interleaved rounds (default 3; --grid: 2)')
    parser.add_argument('--device', choices=['cpu', 'cuda'], default=None)
    parser.add_argument('--data-samples', type=int, default=8,
                        help='files per data round (the first K of the training list)')
    parser.add_argument('--data-workers', type=int, default=0,
                        help='DataLoader worker processes for the data benchmark '
                             '(0: the main process)')
    parser.add_argument('--skip-model', action='store_true')
    parser.add_argument('--skip-data', action='store_true')
    parser.add_argument('--threads', type=int, default=None, help='torch CPU threads')
    parser.add_argument('--amp', choices=['config', 'none', 'fp16', 'bf16'], default='config',
                        help="mixed precision (CUDA): the config's optim_wrapper, off, or "
                             "AmpOptimWrapper with float16 / bfloat16")
    parser.add_argument('--grid', action='store_true',
                        help='AV / video-only step time over mask x frames x batch '
                             '(synthetic inputs); skips the data benchmark')
    parser.add_argument('--grid-masks', type=float, nargs='+', default=list(GRID_MASKS))
    parser.add_argument('--grid-frames', type=int, nargs='+', default=list(GRID_FRAMES))
    parser.add_argument('--grid-batches', type=int, nargs='+', default=list(GRID_BATCHES))
    parser.add_argument('--peak-tflops', type=float, default=None,
                        help='device peak (TFLOP/s) for the MFU when the device is not '
                             'in the built-in bf16 table')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. model.backbone.with_cp=True')
    args = parser.parse_args(argv)
    # a grid cell at batch 8, 16 x 224 is ~25 s of CPU per step: one step per
    # round, two rounds (the full grid is then ~15 min of one core's CPU time)
    for name, default, grid_default in (('iters', 10, 1), ('warmup', 2, 1),
                                        ('repeats', 3, 2)):
        if getattr(args, name) is None:
            setattr(args, name, grid_default if args.grid else default)
    return args


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


# ---------------------------------------------------------------- efficiency
def _sdpa_flops(query_shape, key_shape, value_shape, *args, **kwargs) -> int:
    from torch.utils.flop_counter import sdpa_flop_count
    return sdpa_flop_count(query_shape, key_shape, value_shape)


def _sdpa_backward_flops(grad_out_shape, query_shape, key_shape, value_shape, *args,
                         **kwargs) -> int:
    from torch.utils.flop_counter import sdpa_backward_flop_count
    return sdpa_backward_flop_count(grad_out_shape, query_shape, key_shape, value_shape)


def flop_counter():
    """``FlopCounterMode`` that also counts PyTorch's CPU flash attention
    (its table has the CUDA kernels only, so attention would count 0 on CPU)."""
    from torch.utils.flop_counter import FlopCounterMode
    aten = torch.ops.aten
    return FlopCounterMode(display=False, custom_mapping={
        aten._scaled_dot_product_flash_attention_for_cpu: _sdpa_flops,
        aten._scaled_dot_product_flash_attention_for_cpu_backward: _sdpa_backward_flops,
    })


# aten kernels behind F.scaled_dot_product_attention; the math path is
# decomposed into matmul / softmax and leaves no kernel of its own
SDPA_KERNELS = {
    'aten::_scaled_dot_product_flash_attention': 'flash',
    'aten::_scaled_dot_product_flash_attention_for_cpu': 'flash (CPU)',
    'aten::_scaled_dot_product_efficient_attention': 'memory-efficient',
    'aten::_scaled_dot_product_cudnn_attention': 'cudnn',
    'aten::_scaled_dot_product_fused_attention_overrideable': 'fused (other device)',
}


def summarise_sdpa(num_calls: int, kernels: Iterable[str]) -> Dict[str, int]:
    """Forward SDPA calls per backend.

    Args:
        num_calls: calls of ``F.scaled_dot_product_attention`` seen.
        kernels: names of the aten ops that ran (``SDPA_KERNELS`` keys count,
            backward kernels and other ops are ignored).

    Returns:
        backend name -> number of calls; calls without a fused kernel are 'math'.
    """
    counts: Dict[str, int] = {}
    for name in kernels:
        backend = SDPA_KERNELS.get(name)
        if backend is not None:
            counts[backend] = counts.get(backend, 0) + 1
    fused = sum(counts.values())
    if num_calls > fused:
        counts['math'] = num_calls - fused
    return counts


def format_sdpa(counts: Dict[str, int]) -> str:
    return ', '.join(f'{k} x{v}' for k, v in sorted(counts.items())) or 'no SDPA call'


class SdpaRecorder:
    """Records which SDPA backend each ``F.scaled_dot_product_attention`` call
    ran (a torch-function mode counts the calls, a dispatch mode sees the
    kernel after autocast and backend selection).

    Use as ``with SdpaRecorder() as rec: ...`` then ``rec.counts()``.
    """

    def __init__(self) -> None:
        from torch.overrides import TorchFunctionMode
        from torch.utils._python_dispatch import TorchDispatchMode
        rec = self
        self.calls = 0
        self.kernels: List[str] = []

        class _Calls(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                if func is torch.nn.functional.scaled_dot_product_attention:
                    rec.calls += 1
                return func(*args, **(kwargs or {}))

        class _Kernels(TorchDispatchMode):
            def __torch_dispatch__(self, func, types, args=(), kwargs=None):
                name = func._schema.name
                if 'attention' in name:
                    rec.kernels.append(name)
                return func(*args, **(kwargs or {}))

        self._modes = (_Calls(), _Kernels())

    def __enter__(self) -> 'SdpaRecorder':
        for m in self._modes:
            m.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        for m in reversed(self._modes):
            m.__exit__(*exc)

    def counts(self) -> Dict[str, int]:
        return summarise_sdpa(self.calls, self.kernels)


def bf16_peak_flops(device_name: str) -> Optional[float]:
    """Dense bf16 peak (FLOP/s) of a device by its name, or None if unknown."""
    for key, peak in BF16_PEAK_FLOPS:
        if key.lower() in device_name.lower():
            return peak
    return None


def achieved_flops(flops_per_step: float, seconds_per_step: float) -> float:
    """FLOP/s of a step of ``flops_per_step`` taking ``seconds_per_step``."""
    if seconds_per_step <= 0:
        raise ValueError(f'step time must be positive, got {seconds_per_step}')
    return flops_per_step / seconds_per_step


def model_flops_utilisation(flops_per_step: float, seconds_per_step: float,
                            peak_flops: float) -> float:
    """MFU: achieved FLOP/s over the device's peak (0..1)."""
    if peak_flops <= 0:
        raise ValueError(f'peak must be positive, got {peak_flops}')
    return achieved_flops(flops_per_step, seconds_per_step) / peak_flops


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


def synthetic_batch(model, pipeline: List[dict], batch_size: int,
                    mask_ratio: Optional[float] = None,
                    audio_rows: Optional[int] = None) -> dict:
    """A packed batch of the config's shape, when no data file is readable.

    Args:
        model: the built model (its backbone gives the video geometry).
        pipeline: the config's training pipeline (mask ratio, audio rows / bins).
        batch_size: clips.
        mask_ratio: overrides the pipeline's tube mask ratio.
        audio_rows: overrides the audio feature's ``num_rows``.

    Returns:
        ``dict(inputs=dict(imgs=[(1, C, T, H, W) uint8], mask=[(T', H', W') bool],
        audio=[(1, L, F)], audio_valid=[True]), data_samples=[...])``.
    """
    backbone = model.backbone
    t_grid, h_grid, w_grid = backbone.grid_size
    c = backbone.in_channels
    t = t_grid * backbone.tubelet_size
    h, w = h_grid * backbone.patch_size, w_grid * backbone.patch_size
    mask_cfg = _find_transform(pipeline, ('TubeMaskGenerator', )) or {}
    ratio = float(mask_ratio if mask_ratio is not None else mask_cfg.get('mask_ratio', 0.9))
    num_masked = int(ratio * h_grid * w_grid)
    feat = _find_transform(pipeline, ('AudioMFCC', 'AudioFbank')) or {}
    rows = int(audio_rows or feat.get('num_rows') or 100)
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
    """One model with its optimizer wrapper and a fixed batch; collects step
    times, peak memory, FLOPs per step and the SDPA backends it ran."""

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
        self.cpu_times: List[float] = []  # process CPU time: robust to other jobs' load
        self.peaks: List[int] = []
        self.loss = float('nan')
        self.flops = float('nan')
        self.sdpa: Dict[str, int] = {}

    @property
    def dtype(self) -> str:
        """Compute dtype of the step ('bfloat16' / 'float16' under AMP, else 'float32')."""
        dtype = getattr(self.optim_wrapper, 'cast_dtype', None)
        if dtype is None and type(self.optim_wrapper).__name__ == 'AmpOptimWrapper':
            dtype = torch.float16
        return str(dtype).replace('torch.', '') if dtype is not None else 'float32'

    def steps(self, n: int) -> None:
        log_vars = None
        for _ in range(n):
            log_vars = self.model.train_step(copy.copy(self.batch), self.optim_wrapper)
        if self.device == 'cuda':
            torch.cuda.synchronize()
        if log_vars is not None:
            self.loss = float(torch.as_tensor(log_vars['loss']).detach())

    def counted_step(self) -> None:
        """One (unmeasured) step under the FLOP counter and the SDPA recorder."""
        with flop_counter() as counter, SdpaRecorder() as rec:
            self.steps(1)
        self.flops = float(counter.get_total_flops())
        self.sdpa = rec.counts()

    def warmup(self, n: int) -> None:
        """``n`` unmeasured steps (at least one: the counted one)."""
        self.counted_step()
        self.steps(max(n - 1, 0))

    def measure(self, n: int, track_memory: bool = True) -> None:
        """Times ``n`` steps (wall and, on CPU, process CPU time); with
        ``track_memory`` also the peak memory (on CPU a sampling thread, whose
        own CPU time then counts too)."""
        if self.device == 'cpu' and not track_memory:
            start, cpu_start = time.perf_counter(), time.process_time()
            self.steps(n)
            self.times.append(time.perf_counter() - start)
            self.cpu_times.append(time.process_time() - cpu_start)
            return
        if self.device == 'cuda':
            torch.cuda.synchronize()
            torch.cuda.reset_peak_memory_stats()
            start = time.perf_counter()
            self.steps(n)
            self.times.append(time.perf_counter() - start)
            self.peaks.append(torch.cuda.max_memory_allocated())
        else:
            with _RssPeak() as rss:
                start, cpu_start = time.perf_counter(), time.process_time()
                self.steps(n)
                self.times.append(time.perf_counter() - start)
                self.cpu_times.append(time.process_time() - cpu_start)
            self.peaks.append(rss.growth)

    def step_time(self, iters: int) -> float:
        """Median wall seconds per step over the measured rounds."""
        return statistics.median(self.times) / iters

    def cpu_step_time(self, iters: int) -> float:
        """Median process CPU seconds per step (CPU runs; NaN on CUDA)."""
        return statistics.median(self.cpu_times) / iters if self.cpu_times else float('nan')


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
        v.warmup(args.warmup)
    for _ in range(args.repeats):
        for v in variants:
            v.measure(args.iters)
    out = {}
    for v in variants:
        step = v.step_time(args.iters)
        out[v.name] = dict(clips_per_s=batch_size / step, step_s=step,
                           peak_mib=max(v.peaks) / 2 ** 20, loss=v.loss, flops=v.flops,
                           sdpa=v.sdpa, dtype=v.dtype)
    return out


# ---------------------------------------------------------------- grid
def grid_model_cfg(model_cfg: dict, frames: int) -> dict:
    """The model at ``frames`` input frames; the audio tokens scale with the
    frames (the configs use one token per sampled frame)."""
    cfg = copy.deepcopy(model_cfg)
    old = int(cfg['backbone'].get('num_frames', 16))
    cfg['backbone']['num_frames'] = frames
    audio = cfg.get('audio_backbone')
    if isinstance(audio, dict) and audio.get('num_tokens'):
        audio['num_tokens'] = max(1, round(audio['num_tokens'] * frames / old))
    return cfg


def _grid_audio_rows(pipeline: List[dict], frames: int, old_frames: int) -> int:
    feat = _find_transform(pipeline, ('AudioMFCC', 'AudioFbank')) or {}
    return max(1, round(int(feat.get('num_rows') or 100) * frames / old_frames))


def benchmark_grid(cfg, args, device: str) -> List[dict]:
    """AV / video-only step time over mask x frames x batch.

    For each frame count the two models are built once (seed 0); each cell
    (mask, batch) warms both up (the first step counted for FLOPs), then runs
    ``--repeats`` interleaved rounds of ``--iters`` steps (AV, video-only, AV,
    ...). Inputs are synthetic at the config's shape.

    Returns:
        one dict per cell: frames, mask, batch, av_s, vo_s (median s/step),
        ratio (av_s / vo_s), av_flops, vo_flops (per step), av_sdpa, vo_sdpa.
    """
    pipeline = cfg.train_dataloader.dataset.get('pipeline', [])
    old_frames = int(cfg.model['backbone'].get('num_frames', 16))
    rows = []
    for frames in args.grid_frames:
        torch.manual_seed(0)
        av_cfg = grid_model_cfg(cfg.model, frames)
        vo_cfg = video_only_model_cfg(av_cfg)
        audio_rows = _grid_audio_rows(pipeline, frames, old_frames)
        variants = [ModelVariant('AV', av_cfg, cfg, device, None, args.amp),
                    ModelVariant('video-only', vo_cfg, cfg, device, None, args.amp)]
        for mask in args.grid_masks:
            for batch_size in args.grid_batches:
                batch = synthetic_batch(variants[0].model, pipeline, batch_size, mask,
                                        audio_rows)
                for v in variants:
                    v.batch, v.times, v.cpu_times, v.peaks = batch, [], [], []
                    v.warmup(args.warmup)
                for _ in range(args.repeats):
                    for v in variants:
                        v.measure(args.iters, track_memory=False)
                av, vo = variants
                row = dict(frames=frames, mask=mask, batch=batch_size,
                           av_s=av.step_time(args.iters), vo_s=vo.step_time(args.iters),
                           av_cpu=av.cpu_step_time(args.iters),
                           vo_cpu=vo.cpu_step_time(args.iters),
                           av_flops=av.flops, vo_flops=vo.flops,
                           av_sdpa=av.sdpa, vo_sdpa=vo.sdpa)
                row['ratio'] = row['av_s'] / row['vo_s']
                row['cpu_ratio'] = row['av_cpu'] / row['vo_cpu']
                rows.append(row)
                print(f'[benchmark] grid frames={frames} mask={mask} batch={batch_size}: '
                      f'AV {row["av_s"]:.4g} s, video-only {row["vo_s"]:.4g} s, '
                      f'ratio {row["ratio"]:.3f} (CPU time {row["cpu_ratio"]:.3f})',
                      flush=True)
        del variants
    return rows


def format_grid(rows: List[dict]) -> str:
    """The grid as one markdown table plus the verdict against GRID_TARGET
    (on the CPU-time ratio where there is one: other jobs' load inflates wall
    time, not this process's CPU time)."""
    lines = ['| frames | mask | batch | AV s/step | video-only s/step | AV / video-only '
             '| AV / video-only (CPU time) | AV GFLOP/step | video-only GFLOP/step '
             '| AV TFLOP/s | video-only TFLOP/s |',
             '|---|---|---|---|---|---|---|---|---|---|---|']
    for r in rows:
        lines.append(
            f'| {r["frames"]} | {r["mask"]:g} | {r["batch"]} | {r["av_s"]:.4g} | '
            f'{r["vo_s"]:.4g} | {r["ratio"]:.4f} | {r["cpu_ratio"]:.4f} | '
            f'{r["av_flops"] / 1e9:.5g} | {r["vo_flops"] / 1e9:.5g} | '
            f'{achieved_flops(r["av_flops"], r["av_s"]) / 1e12:.4g} | '
            f'{achieved_flops(r["vo_flops"], r["vo_s"]) / 1e12:.4g} |')
    key = 'cpu_ratio' if all(r['cpu_ratio'] == r['cpu_ratio'] for r in rows) else 'ratio'
    worst = max(rows, key=lambda r: r[key])
    verdict = 'met' if worst[key] <= GRID_TARGET else 'NOT met'
    what = 'CPU time' if key == 'cpu_ratio' else 'wall time'
    lines.append(f'\nworst AV / video-only step {what} {worst[key]:.3f} (frames '
                 f'{worst["frames"]}, mask {worst["mask"]:g}, batch {worst["batch"]}); '
                 f'worst wall-time ratio {max(r["ratio"] for r in rows):.3f}; '
                 f'target <= {GRID_TARGET}: {verdict}')
    return '\n'.join(lines)


# ---------------------------------------------------------------- data
_MMACTION_PACKERS = {'PackAVInputs': dict(type='PackActionInputs')}


def video_only_pipeline(pipeline: List[dict]) -> List[dict]:
    """MMAction2's video-only version of a pipeline: its MMAction2 / MMCV
    transforms in order (decode, sample, resize, crop, flip, format) and the
    plugin's subclasses of them (``SafeDecordInit``), the audio-visual packer
    replaced by ``PackActionInputs``; the plugin's audio and mask transforms
    dropped."""
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
        # the plugin's own subclasses of MMAction2 transforms (SafeDecordInit)
        # stay: the two pipelines then differ by the audio and mask work only
        if not cls.__module__.startswith('mmav_mask') or any(
                base.__module__.startswith('mmaction') for base in cls.__mro__[1:]):
            out.append(copy.deepcopy(t))
    if not any(t['type'] == 'PackActionInputs' for t in out):
        out.append(dict(type='PackActionInputs'))
    return out


def _seed_all(seed: int) -> None:
    import random

    import numpy as np
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def _first(batch):
    return batch[0]


class _SeededItems:
    """Item i of ``dataset`` drawn with the random state seeded from i, in
    whichever process reads it: both pipelines then sample the same frames
    and crop of a file (only the audio work differs)."""

    def __init__(self, dataset, indices: List[int]) -> None:
        self.dataset, self.indices = dataset, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, k: int) -> float:
        """CPU seconds of this process to read item k (the item is dropped:
        only its cost travels back from a worker)."""
        _seed_all(self.indices[k])
        start = time.process_time()
        self.dataset[self.indices[k]]
        return time.process_time() - start


class _DataRounds:
    """Reads ``indices`` of a dataset once per :meth:`run` through a persistent
    ``DataLoader`` with ``workers`` processes (PyTorch runs each worker's torch
    ops on one thread), each item seeded by its index (:class:`_SeededItems`);
    :meth:`run` returns the CPU seconds the workers spent in the pipeline."""

    def __init__(self, dataset, indices: List[int], workers: int) -> None:
        from torch.utils.data import DataLoader
        self.loader = DataLoader(_SeededItems(dataset, indices), batch_size=1,
                                 num_workers=workers, collate_fn=_first,
                                 persistent_workers=True, shuffle=False)

    def run(self) -> float:
        return sum(self.loader)


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
    cpu = {name: [] for name in datasets}
    if args.data_workers > 0:
        runners = {name: _DataRounds(d, indices, args.data_workers)
                   for name, d in datasets.items()}
        for r in runners.values():  # warm-up: file cache, lazy imports, worker start
            r.run()
        for _ in range(args.repeats):
            for name, r in runners.items():
                start = time.perf_counter()
                cpu[name].append(r.run())
                times[name].append(time.perf_counter() - start)
    else:
        for d in datasets.values():  # warm-up: file cache, lazy imports
            for i in indices:
                d[i]
        for _ in range(args.repeats):
            wall = dict.fromkeys(datasets, 0.0)
            proc = dict.fromkeys(datasets, 0.0)
            for i in indices:  # interleaved per file: load changes hit both alike
                for name, d in datasets.items():
                    # same frames and crop in both pipelines: only the audio differs
                    _seed_all(hash((len(times[name]), i)) % 2 ** 31)
                    start, cpu_start = time.perf_counter(), time.process_time()
                    d[i]
                    proc[name] += time.process_time() - cpu_start
                    wall[name] += time.perf_counter() - start
            for name in datasets:
                times[name].append(wall[name])
                cpu[name].append(proc[name])
    print(f'[benchmark] data: {len(indices)} files per round, {args.data_workers} workers, '
          f'e.g. {first[0]}', flush=True)
    return {name: dict(clips_per_s=len(indices) / statistics.median(t),
                       cpu_s=statistics.median(cpu[name]) / len(indices) if cpu[name]
                       else None)
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
    if not args.grid:
        # the grid reports no memory: keep glibc's normal reuse of freed
        # blocks there (a pinned mmap threshold turns every large tensor into
        # page faults, i.e. system CPU time, more of it in the AV model)
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
    if args.grid:
        print(format_grid(benchmark_grid(cfg, args, device)), flush=True)
        return 0
    rows: List[Tuple[str, float, str]] = []
    ratios: List[Tuple[str, float, float]] = []
    if not args.skip_model:
        res = benchmark_model(cfg, args, device, batch_size)
        mem_unit = 'MiB (CUDA peak allocated)' if device == 'cuda' else 'MiB (peak RSS growth)'
        peak = (args.peak_tflops * 1e12 if args.peak_tflops else
                bf16_peak_flops(machine) if device == 'cuda' else None)
        for name, r in res.items():
            rows.append((f'{name} throughput', r['clips_per_s'], 'clips/s'))
            rows.append((f'{name} step time', r['step_s'], 's'))
            rows.append((f'{name} peak memory', r['peak_mib'], mem_unit))
            rows.append((f'{name} FLOPs per step', r['flops'] / 1e9,
                         'GFLOP (forward + backward, FlopCounterMode)'))
            achieved = achieved_flops(r['flops'], r['step_s'])
            rows.append((f'{name} achieved', achieved / 1e12, f'TFLOP/s ({r["dtype"]})'))
            if peak:
                rows.append((f'{name} MFU', 100.0 * achieved / peak,
                             f'% of {peak / 1e12:g} TFLOP/s dense bf16 peak '
                             f'(step in {r["dtype"]})'))
            print(f'[benchmark] SDPA backends, {name}: {format_sdpa(r["sdpa"])}', flush=True)
        if device == 'cuda' and not peak:
            print(f'[benchmark] no bf16 peak known for {machine!r}: pass --peak-tflops '
                  'for the MFU', flush=True)
        av, vo = list(res.values())
        ratios.append(('model AV / video-only throughput',
                       av['clips_per_s'] / vo['clips_per_s'], MODEL_TARGET))
        rows.append(('model AV / video-only peak memory',
                     av['peak_mib'] / max(vo['peak_mib'], 1e-9), 'ratio'))
    if not args.skip_data:
        res = benchmark_data(cfg, args)
        for name, r in res.items():
            rows.append((f'{name} throughput', r['clips_per_s'], 'clips/s'))
            if r['cpu_s'] is not None:
                rows.append((f'{name} CPU time', 1e3 * r['cpu_s'],
                             'ms/clip (in the workers)' if args.data_workers else
                             'ms/clip (this process)'))
        av, vo = list(res.values())
        if av['cpu_s'] is not None:
            rows.append(('data AV / video-only throughput by CPU time',
                         vo['cpu_s'] / av['cpu_s'], 'ratio'))
        ratios.append(('data AV / video-only throughput', av['clips_per_s'] / vo['clips_per_s'],
                       DATA_TARGETS[args.data_workers > 0]))
    for name, value, target in ratios:
        rows.append((name, value, f'ratio (target >= {target}: '
                                  f'{"met" if value >= target else "NOT met"})'))
    print(format_table(rows), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
