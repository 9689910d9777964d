"""Reconstruction-loss curves from mmengine logs (the paper's Fig. 3).

Usage:
    python tools/analysis/plot_loss_curves.py WORK_DIR [WORK_DIR ...] --out FILE.png
        [--key loss_rec] [--x iter|epoch] [--labels A B ...] [--smooth N]

Each WORK_DIR is a training work dir (``work_dirs/avmask_ucf101``): every run
in it (``<timestamp>/vis_data/scalars.json``, JSON lines written by mmengine's
LocalVisBackend; ``<timestamp>/vis_data/<timestamp>.json`` is read when
scalars.json is absent) is read in time order, so a resumed run continues the
curve (a later run's value wins for a repeated iteration). A single run
folder or a .json log file may be given instead of a work dir. ``--x epoch``
plots the mean loss of each epoch; ``--x iter`` every logged iteration.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np


def find_logs(path: str) -> List[str]:
    """JSON-lines logs of every run under ``path``, oldest run first.

    Raises:
        FileNotFoundError: no mmengine JSON log under ``path``.
    """
    if osp.isfile(path):
        return [path]
    runs = sorted(glob.glob(osp.join(path, '*', 'vis_data'))) or (
        [osp.join(path, 'vis_data')] if osp.isdir(osp.join(path, 'vis_data')) else [])
    logs = []
    for vis_dir in runs:  # timestamps (YYYYmmdd_HHMMSS) sort chronologically
        scalars = osp.join(vis_dir, 'scalars.json')
        if osp.isfile(scalars):
            logs.append(scalars)
        else:
            logs.extend(sorted(glob.glob(osp.join(vis_dir, '*.json'))))
    if not logs:
        raise FileNotFoundError(f'no mmengine log (<timestamp>/vis_data/scalars.json) '
                                f'under {path}')
    return logs


def read_records(logs: Sequence[str]) -> List[dict]:
    """Parses JSON lines; broken lines (e.g. a run killed mid-write) are skipped."""
    records = []
    for log in logs:
        with open(log) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue
                if isinstance(record, dict):
                    records.append(record)
    return records


def loss_curve(records: Sequence[dict], key: str = 'loss_rec', x: str = 'iter',
               iters_per_epoch: Optional[int] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Training loss against iteration or epoch.

    Args:
        records: log records in time order (training records carry the loss
            and ``step``/``iter``; validation records do not carry ``key``).
        key: loss name; falls back to ``loss`` when no record has ``key``.
        x: 'iter' (global iteration, mmengine's ``step``) or 'epoch' (mean of
            the epoch's logged values).
        iters_per_epoch: unused unless records lack ``epoch`` (iteration-based
            runs): epoch = ceil(iter / iters_per_epoch).

    Returns:
        (xs, ys) float arrays sorted by x.

    Raises:
        KeyError: neither ``key`` nor ``loss`` occurs in the records.
    """
    train = [r for r in records if key in r]
    if not train and key != 'loss':
        train = [r for r in records if 'loss' in r]
        key = 'loss'
    if not train:
        raise KeyError(f'no training record with {key!r} (keys seen: '
                       f'{sorted({k for r in records for k in r})[:20]})')
    by_iter: Dict[int, dict] = {}
    for r in train:  # later records (a resumed run) replace earlier ones
        by_iter[int(r.get('step', r.get('iter', len(by_iter) + 1)))] = r
    iters = np.array(sorted(by_iter), dtype=np.int64)
    values = np.array([float(by_iter[i][key]) for i in iters])
    if x == 'iter':
        return iters.astype(float), values
    if x != 'epoch':
        raise ValueError(f"x must be 'iter' or 'epoch', got {x!r}")
    if all('epoch' in by_iter[i] for i in iters):
        epochs = np.array([int(by_iter[i]['epoch']) for i in iters])
    elif iters_per_epoch:
        epochs = np.ceil(iters / iters_per_epoch).astype(int)
    else:
        raise KeyError('records have no epoch; pass --iters-per-epoch')
    xs = np.unique(epochs)
    return xs.astype(float), np.array([values[epochs == e].mean() for e in xs])


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average over ``window`` points (1 = unchanged)."""
    if window <= 1 or len(values) == 0:
        return values
    cumsum = np.cumsum(np.insert(values, 0, 0.0))
    out = np.empty_like(values)
    for i in range(len(values)):
        lo = max(0, i + 1 - window)
        out[i] = (cumsum[i + 1] - cumsum[lo]) / (i + 1 - lo)
    return out


def plot(curves: Sequence[Tuple[str, np.ndarray, np.ndarray]], out: str, x: str,
         key: str) -> None:
    """Writes one line per (label, xs, ys) to ``out``."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(6, 4))
    for label, xs, ys in curves:
        ax.plot(xs, ys, label=label, linewidth=1.5)
    ax.set_xlabel('iteration' if x == 'iter' else 'epoch')
    ax.set_ylabel(f'{key} (reconstruction loss)')
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=120)
    plt.close(fig)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Reconstruction loss curves.')
    parser.add_argument('work_dirs', nargs='+', help='work dirs, run dirs or .json logs')
    parser.add_argument('--out', required=True, help='output .png')
    parser.add_argument('--key', default='loss_rec', help='logged loss name')
    parser.add_argument('--x', choices=['iter', 'epoch'], default='epoch')
    parser.add_argument('--labels', nargs='+', default=None, help='one legend entry each')
    parser.add_argument('--smooth', type=int, default=1, help='moving-average window')
    parser.add_argument('--iters-per-epoch', type=int, default=None)
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    labels = args.labels or [osp.basename(osp.normpath(w)) for w in args.work_dirs]
    if len(labels) != len(args.work_dirs):
        raise SystemExit('--labels needs one label per work dir')
    curves = []
    for label, work_dir in zip(labels, args.work_dirs):
        xs, ys = loss_curve(read_records(find_logs(work_dir)), args.key, args.x,
                            args.iters_per_epoch)
        curves.append((label, xs, smooth(ys, args.smooth)))
        print(f'{label}: {len(xs)} points, {args.x} {xs[0]:g}..{xs[-1]:g}, '
              f'{args.key} first {ys[0]:.4f} last {ys[-1]:.4f} min {ys.min():.4f}')
    plot(curves, args.out, args.x, args.key)
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
