"""Pictures of masked-video reconstructions (the paper's Fig. 2).

Usage:
    python tools/visualize_reconstruction.py CONFIG CKPT [CKPT ...] --out FILE.png
        [--num-clips N] [--num-frames K] [--split test|val] [--labels A B ...] [--seed S]

One row per clip and sampled frame; columns: ground truth | masked input |
one reconstruction per checkpoint (e.g. the VideoMAE-only model beside
AV-MaskEnhancer, both trained with CONFIG's model layout or with their own
config via ``--configs``) | with ``--swapped-audio``, the last checkpoint
again with every clip given the next clip's audio. Every checkpoint sees
exactly the same clips, audio and tube masks (the pipeline runs once).

Visible tubelets are shown as they are. Masked tubelets show the model's
prediction: with a raw-pixel target (``norm_pix=False``) nothing else; with
the normalised-pixel target each predicted tubelet is mapped back to pixels
with the ground-truth tubelet's own mean and std (VideoMAE's picture), so its
colour is borrowed from the ground truth: the tool then says so in the
column title and on the console.

When CONFIG's pipeline provides object masks (``LoadObjectMask``), each
column also shows the object-region masked-pixel MSE (under the title: over
all shown clips; per clip under its first frame), else the masked-pixel MSE.
"""
from __future__ import annotations

import argparse
import os
import os.path as osp
import sys
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch

import mmav_mask  # noqa: F401  (compat fixes, registration)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Reconstruction pictures per checkpoint.')
    parser.add_argument('config', help='pretraining config (dataset, pipeline, model)')
    parser.add_argument('checkpoints', nargs='+', help='one reconstruction column each')
    parser.add_argument('--out', required=True, help='output .png')
    parser.add_argument('--configs', nargs='+', default=None,
                        help='one model config per checkpoint (default: CONFIG for all); '
                        'the data always comes from CONFIG')
    parser.add_argument('--labels', nargs='+', default=None, help='column titles')
    parser.add_argument('--num-clips', type=int, default=2)
    parser.add_argument('--num-frames', type=int, default=4,
                        help='frames per clip, evenly spaced over the clip')
    parser.add_argument('--start', type=int, default=0, help='first sample index')
    parser.add_argument('--split', choices=['test', 'val'], default='test')
    parser.add_argument('--seed', type=int, default=0, help='seed of masks / sampling')
    parser.add_argument('--hidden-objects', action='store_true',
                        help='show clips whose object the mask hides entirely (the pipeline '
                        'must provide object_mask), where only the audio can tell it')
    parser.add_argument('--swapped-audio', action='store_true',
                        help="add a column: the last checkpoint with each clip given the "
                        "next clip's audio")
    return parser.parse_args(argv)


def _mask_to_pixels(mask: torch.Tensor, tubelet: int, patch: int) -> torch.Tensor:
    """(T', H', W') bool -> (T, H, W) bool, True where the pixel is masked."""
    return (mask.repeat_interleave(tubelet, 0).repeat_interleave(patch, 1)
            .repeat_interleave(patch, 2))


def object_hidden(sample: dict, tubelet: int = 2, patch: int = 16) -> bool:
    """Whether a packed sample shows an object only in masked tubelets: it has
    object pixels (``object_mask``) and no visible tubelet contains any."""
    objects = sample['data_samples'].get('object_mask')
    mask = sample['inputs'].get('mask')
    if objects is None or mask is None or not bool(objects.any()):
        return False
    hidden = _mask_to_pixels(mask.bool().reshape(-1, *mask.shape[-2:]), tubelet, patch)
    frames = objects.reshape(-1, *hidden.shape)[0]  # view 0: (T, H, W)
    return not bool((frames & ~hidden[:len(frames)]).any())


def load_batch(cfg, num_clips: int, start: int = 0, split: str = 'test',
               seed: int = 0, hidden_objects: bool = False) -> dict:
    """Runs CONFIG's {split} pipeline once on samples start..start+num_clips-1,
    or, with ``hidden_objects``, on the first ``num_clips`` samples from
    ``start`` on whose object the mask hides entirely (:func:`object_hidden`).

    Returns:
        A collated batch (``pseudo_collate``) that every model then shares.
    """
    import random
    from mmengine.dataset import pseudo_collate
    from mmaction.registry import DATASETS
    loader_cfg = cfg.get(f'{split}_dataloader')
    dataset = DATASETS.build(loader_cfg.dataset)
    if len(dataset) == 0:
        raise ValueError(f'the {split} dataset of the config is empty')
    backbone = cfg.get('model', {}).get('backbone') or {}
    samples = []
    for offset in range(len(dataset) if hidden_objects else num_clips):
        # Seed per sample: the same picture for the same command, whatever the order.
        np.random.seed(seed + offset)
        torch.manual_seed(seed + offset)
        random.seed(seed + offset)
        sample = dataset[(start + offset) % len(dataset)]
        if not hidden_objects or object_hidden(sample, backbone.get('tubelet_size', 2),
                                               backbone.get('patch_size', 16)):
            samples.append(sample)
        if len(samples) == num_clips:
            break
    if not samples:
        raise ValueError(f'no {split} clip has an object hidden by its mask '
                         '(needs LoadObjectMask in the pipeline)')
    return pseudo_collate(samples)


def build_model(model_cfg, checkpoint: str) -> torch.nn.Module:
    """Builds the pretraining model, loads ``checkpoint`` (trust policy of
    mmav_mask: tensors-only unless our runner wrote the file), eval mode."""
    from mmengine.runner import load_checkpoint
    from mmaction.registry import MODELS
    model = MODELS.build(model_cfg)
    load_checkpoint(model, checkpoint, map_location='cpu', strict=False, logger='current')
    if not hasattr(model, 'predict_video'):
        raise TypeError(f'{type(model).__name__} does not return reconstructed videos '
                        '(expected AVMaskEnhancer)')
    model.predict_video = True
    return model.eval()


def swap_audio(batch: dict) -> dict:
    """The batch with clip i given clip (i + 1) % N's audio (and its validity)."""
    inputs = dict(batch['inputs'])
    if 'audio' not in inputs or len(inputs['audio']) < 2:
        raise ValueError('--swapped-audio needs audio and at least 2 clips (--num-clips)')
    for key in ('audio', 'audio_valid'):
        if key in inputs:
            inputs[key] = list(inputs[key][1:]) + list(inputs[key][:1])
    return dict(batch, inputs=inputs)


@torch.no_grad()
def reconstruct(model: torch.nn.Module, batch: dict) -> Dict[str, torch.Tensor]:
    """Ground truth, mask and reconstruction of view 0 of every clip.

    Returns:
        dict(gt=(N, C, T, H, W) [0, 1], mask=(N, T, H, W) bool (pixel level),
        rec=(N, C, T, H, W) [0, 1], mse=(N,) masked-pixel MSE, and with object
        masks obj_mse=(N,) object-region masked-pixel MSE and obj_sums (2,)
        (squared-error sum, count) over all clips).
    """
    data = model.data_preprocessor(batch, False)
    samples = model(**data, mode='predict')
    imgs = data['inputs']['imgs']
    if imgs.dim() == 6:
        imgs = imgs[:, 0]
    head = model.head
    gt = head.unnormalize(imgs).clamp(0, 1)
    rec = torch.stack([s.rec_video[0] for s in samples]).float()
    mask = torch.stack([
        _mask_to_pixels(s.rec_mask[0].bool(), head.tubelet_size, head.patch_size)
        for s in samples])
    mse = torch.stack([torch.as_tensor(s.rec_pixel_mse).float() for s in samples])
    out = dict(gt=gt, mask=mask, rec=rec, mse=mse)
    if all(s.get('rec_regions') is not None for s in samples):
        obj = torch.stack([s.rec_regions[0, 1:] for s in samples]).double()  # (N, 2)
        out['obj_mse'] = (obj[:, 0] / obj[:, 1].clamp_min(1)).float()
        out['obj_sums'] = obj.sum(0)
    return out


def masked_input(gt: torch.Tensor, mask: torch.Tensor, fill: float = 0.5) -> torch.Tensor:
    """(N, C, T, H, W), (N, T, H, W) -> the clip with masked tubelets grey."""
    return torch.where(mask[:, None], torch.full_like(gt, fill), gt)


def frame_indices(num_total: int, num_frames: int) -> List[int]:
    """``num_frames`` evenly spaced indices in [0, num_total)."""
    num_frames = max(1, min(num_frames, num_total))
    return np.linspace(0, num_total - 1, num_frames).round().astype(int).tolist()


def render_grid(gt: torch.Tensor, masked: torch.Tensor, recs: Sequence[torch.Tensor],
                labels: Sequence[str], out: str, num_frames: int = 4,
                mses: Optional[Sequence[torch.Tensor]] = None,
                error_name: str = 'mse') -> tuple:
    """Writes the picture.

    Args:
        gt: (N, C, T, H, W) ground truth in [0, 1].
        masked: (N, C, T, H, W) masked input.
        recs: one (N, C, T, H, W) reconstruction per checkpoint.
        labels: one title per reconstruction column.
        out: output path (.png).
        num_frames: frames per clip (rows per clip).
        mses: optional (N,) error per checkpoint, shown per clip.
        error_name: what ``mses`` are, printed before each value.

    Returns:
        (rows, columns) of the grid.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    frames = frame_indices(gt.shape[2], num_frames)
    columns = ['ground truth', 'masked input'] + list(labels)
    rows = gt.shape[0] * len(frames)
    fig, axes = plt.subplots(rows, len(columns), squeeze=False,
                             figsize=(1.8 * len(columns), 1.8 * rows))
    for clip in range(gt.shape[0]):
        for f_i, t in enumerate(frames):
            r = clip * len(frames) + f_i
            panels = [gt[clip], masked[clip]] + [rec[clip] for rec in recs]
            for c, panel in enumerate(panels):
                ax = axes[r, c]
                ax.imshow(panel[:, t].permute(1, 2, 0).clamp(0, 1).cpu().numpy())
                ax.set_xticks([])
                ax.set_yticks([])
                if r == 0:
                    ax.set_title(columns[c], fontsize=8)
                if c == 0:
                    ax.set_ylabel(f'clip {clip} t={t}', fontsize=7)
                if c >= 2 and mses is not None and f_i == 0:
                    ax.set_xlabel(f'{error_name} {float(mses[c - 2][clip]):.4f}',
                                  fontsize=7)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return rows, len(columns)


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    configs = args.configs or [args.config] * len(args.checkpoints)
    if len(configs) != len(args.checkpoints):
        raise SystemExit('--configs needs one config per checkpoint')
    labels = args.labels or [osp.basename(osp.dirname(osp.abspath(c))) or osp.basename(c)
                             for c in args.checkpoints]
    if len(labels) != len(args.checkpoints):
        raise SystemExit('--labels needs one label per checkpoint')

    batch = load_batch(cfg, args.num_clips, args.start, args.split, args.seed,
                       args.hidden_objects)
    results = []
    model = None
    for i, (model_config, ckpt) in enumerate(zip(configs, args.checkpoints)):
        model_cfg = Config.fromfile(model_config).model if model_config != args.config \
            else cfg.model
        model = build_model(model_cfg, ckpt)
        results.append(reconstruct(model, batch))
        if model.head.norm_pix:  # say what the picture borrows
            labels[i] += '\n(colour: GT stats)'
            print(f'{labels[i].splitlines()[0]}: normalised-pixel target; masked tubelets are '
                  'de-normalised with the ground truth\'s per-tubelet mean and std')
    if args.swapped_audio:
        results.append(reconstruct(model, swap_audio(batch)))
        labels.append(labels[-1].splitlines()[0] + "\nwith another clip's audio")
    gt, mask = results[0]['gt'], results[0]['mask']
    for res, ckpt in zip(results[1:], args.checkpoints[1:]):
        if not torch.equal(res['mask'], mask):  # same clips, so the masks must agree
            raise RuntimeError(f'{ckpt}: model used another mask than the first one')
    regions = all('obj_mse' in r for r in results)
    key, name = ('obj_mse', 'object mse') if regions else ('mse', 'mse')
    titles = list(labels)
    if regions:  # pooled over the shown clips, under each column title
        titles = [f"{t}\nobject MSE {float(r['obj_sums'][0] / r['obj_sums'][1]):.4f}"
                  for t, r in zip(labels, results)]
    shape = render_grid(gt, masked_input(gt, mask), [r['rec'] for r in results], titles,
                        args.out, args.num_frames, [r[key] for r in results], name)
    for label, res in zip(labels, results):
        label = label.replace('\n(colour: GT stats)', '').replace('\n', ' ')
        print(f'{label}: masked-pixel MSE per clip '
              f'{[round(float(v), 5) for v in res["mse"]]}')
        if regions:
            print(f'{label}: object-region masked-pixel MSE per clip '
                  f'{[round(float(v), 5) for v in res["obj_mse"]]}, all shown clips '
                  f"{float(res['obj_sums'][0] / res['obj_sums'][1]):.5f}")
    print(f'wrote {args.out} ({shape[0]} rows x {shape[1]} columns)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
