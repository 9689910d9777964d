"""Audiovisual MAE reconstruction picture: video frames and the spectrogram.

Usage:
    python tools/analysis/avmae_reconstruction_picture.py CONFIG CKPT --out FILE.png
        [--num-clips N] [--num-frames K] [--split test|val] [--seed S]

One row per clip: K frames (ground truth | masked input | reconstruction) and the
log-mel spectrogram (ground truth | masked | reconstruction), time left to right,
low frequencies at the bottom. Masked video tubelets are mapped back to pixels as
in ``tools/visualize_reconstruction.py`` (with the normalised-pixel target the
colour comes from the ground-truth tubelet's own statistics); spectrogram
patches are shown in the features' own units (with ``norm_pix`` de-normalised
with the ground-truth patch's mean and std, which the title then says). A
modality the objective does not reconstruct shows its masked input only.
The clips, masks and audio come from CONFIG's pipeline (seeded per clip).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import os.path as osp
import sys

import numpy as np
import torch

import mmav_mask  # noqa: F401  (compat fixes, registration)

_TOOLS = osp.dirname(osp.dirname(osp.abspath(__file__)))


def _video_tool():
    """tools/visualize_reconstruction.py (its batch loader and mask helper)."""
    spec = importlib.util.spec_from_file_location(
        'visualize_reconstruction', osp.join(_TOOLS, 'visualize_reconstruction.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='AVMAE pretraining config')
    parser.add_argument('checkpoint', help='AVMAE checkpoint')
    parser.add_argument('--out', required=True, help='output .png')
    parser.add_argument('--num-clips', type=int, default=2)
    parser.add_argument('--num-frames', type=int, default=4)
    parser.add_argument('--split', choices=['test', 'val'], default='test')
    parser.add_argument('--seed', type=int, default=0)
    return parser.parse_args(argv)


@torch.no_grad()
def reconstruct(model, batch: dict) -> dict:
    """Runs the model on one collated batch; first view of every clip.

    Returns:
        dict of numpy arrays: ``video`` / ``video_masked`` / ``video_rec``
        (N, T, H, W, C) in [0, 1] (``video_rec`` None when video is not
        predicted), ``spec`` / ``spec_masked`` / ``spec_rec`` (N, L', F'),
        and ``spec_norm_pix``.
    """
    data = model.data_preprocessor(batch, False)
    flat = model._flatten(data['inputs'])
    preds = model.reconstruct(flat['imgs'], flat['mask'], flat['audio'], flat['audio_mask'],
                              flat.get('audio_valid'))
    views = flat['num_views']
    pick = slice(None, None, views)
    vhead, ahead = model.video_head, model.audio_head
    imgs, mask = flat['imgs'][pick], flat['mask'][pick]
    video = vhead.unnormalize(imgs).clamp(0, 1)
    t, p = vhead.tubelet_size, vhead.patch_size
    keep = (~mask).repeat_interleave(t, 1).repeat_interleave(p, 2).repeat_interleave(p, 3)
    out = dict(video=video, video_masked=video * keep[:, None].float(), video_rec=None)
    if 'video' in preds:
        out['video_rec'] = vhead.reconstruct_video(preds['video'][pick], imgs, mask)
    audio, amask = flat['audio'][pick], flat['audio_mask'][pick]
    spec = ahead.as_clip(audio)[:, 0, 0]
    pa = ahead.patch_size
    akeep = (~amask).repeat_interleave(pa, 1).repeat_interleave(pa, 2)
    out.update(spec=spec, spec_masked=torch.where(akeep, spec, torch.full_like(spec, spec.min())),
               spec_rec=None, spec_norm_pix=ahead.norm_pix)
    if 'audio' in preds:
        out['spec_rec'] = ahead.reconstruct_spectrogram(preds['audio'][pick], audio, amask)
    for key in ('video', 'video_masked', 'video_rec'):
        if out[key] is not None:
            out[key] = out[key].permute(0, 2, 3, 4, 1).cpu().numpy()  # N T H W C
    for key in ('spec', 'spec_masked', 'spec_rec'):
        if out[key] is not None:
            out[key] = out[key].cpu().numpy()
    return out


def draw(result: dict, out: str, num_frames: int) -> None:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    n, T = result['video'].shape[:2]
    frames = np.linspace(0, T - 1, num_frames).round().astype(int)
    cols = 3 * num_frames + 3
    fig, axes = plt.subplots(n, cols, figsize=(1.3 * cols, 1.6 * n), squeeze=False)
    vmin, vmax = float(result['spec'].min()), float(result['spec'].max())
    spec_rec_title = 'spec. rec.' + (' (GT patch stats)' if result['spec_norm_pix'] else '')
    for i in range(n):
        col = 0
        for name, key in (('GT', 'video'), ('masked', 'video_masked'), ('rec.', 'video_rec')):
            for f in frames:
                ax = axes[i, col]
                col += 1
                ax.axis('off')
                if result[key] is None:
                    continue
                ax.imshow(result[key][i, f])
                if i == 0:
                    ax.set_title(f'{name} t{f}', fontsize=7)
        for name, key in (('spec. GT', 'spec'), ('spec. masked', 'spec_masked'),
                          (spec_rec_title, 'spec_rec')):
            ax = axes[i, col]
            col += 1
            ax.axis('off')
            if result[key] is None:
                continue
            ax.imshow(result[key][i].T, origin='lower', aspect='auto', vmin=vmin, vmax=vmax,
                      cmap='magma')
            if i == 0:
                ax.set_title(name, fontsize=7)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    tool = _video_tool()
    batch = tool.load_batch(cfg, args.num_clips, split=args.split, seed=args.seed)
    from mmengine.runner import load_checkpoint
    from mmaction.registry import MODELS
    model = MODELS.build(cfg.model)
    if not hasattr(model, 'audio_head'):
        print(f'error: {args.config}: the model is {type(model).__name__}, not AVMAE',
              file=sys.stderr)
        return 1
    load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True, logger='current')
    result = reconstruct(model.eval(), batch)
    draw(result, args.out, args.num_frames)
    print(f'wrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
