"""Writes a small synthetic audio-visual dataset in UCF101's layout.

Each clip is a real mp4 (h264 video, AAC mono audio) of a *sounding object*
over a noisy textured background, plus a silent distractor that moves on its
own. What ties sound to picture:

* every note of the object's sound has a pitch drawn from a small scale; the
  pitch sets the object's colour (hue) and its height in the frame;
* the note onsets set *when* the object jumps to a new horizontal position and
  flashes; its brightness follows the note's decaying amplitude envelope.

So a model that sees only 10 % of low-resolution patches cannot tell where the
object is or which colour it has, but the audio says both (pitch -> colour and
row, onset -> when it moved and how bright it is). The class fixes the
object's shape, the sound's timbre and the rhythm's period, so classes are
learnable from either modality.

Output (MMAction2's ``data/ucf101`` layout)::

    OUT/videos/<Class>/v_<Class>_gXX_cYY.mp4
    OUT/annotations/classInd.txt            "1 Class" (1-based, UCF101 format)
    OUT/annotations/trainlist01.txt         "Class/v_....mp4 1"  (1-based)
    OUT/annotations/testlist01.txt          "Class/v_....mp4"    (no labels)
    OUT/ucf101_train_split_1_videos.txt     "Class/v_....mp4 0"  (0-based)
    OUT/ucf101_val_split_1_videos.txt       "Class/v_....mp4 0"

Everything is a function of ``--seed`` (and the size options): the same seed
gives byte-identical files, a different seed different clips.
"""
from __future__ import annotations

import argparse
import colorsys
import os
import os.path as osp
import sys
import time
from dataclasses import dataclass
from typing import List, Tuple

import numpy as np

CLASS_NAMES = ['Disc', 'Square', 'Triangle', 'Cross', 'Ring', 'Diamond',
               'Bar', 'Star']
SHAPES = ['disc', 'square', 'triangle', 'cross', 'ring', 'diamond', 'bar', 'star']
TIMBRES = ['sine', 'square', 'saw', 'bell']
PERIODS = [6, 10, 4, 8, 5, 12, 7, 9]  # frames between onsets, per class
# Pentatonic-like scale (Hz); index i -> hue i / len and row i.
SCALE = np.array([261.6, 311.1, 349.2, 392.0, 466.2, 523.3, 622.3, 698.5])
SAMPLE_RATE = 16000


@dataclass
class ClipSpec:
    class_idx: int
    size: int
    fps: int
    num_frames: int
    sample_rate: int = SAMPLE_RATE


def class_names(num_classes: int) -> List[str]:
    if not 1 <= num_classes <= len(CLASS_NAMES):
        raise ValueError(f'--num-classes must be in [1, {len(CLASS_NAMES)}]')
    return [f'{name}Beat' for name in CLASS_NAMES[:num_classes]]


def pitch_colour(note: int) -> np.ndarray:
    """Hue spread over the scale, full saturation: distinct per pitch."""
    r, g, b = colorsys.hsv_to_rgb(note / len(SCALE), 0.9, 1.0)
    return np.array([r, g, b]) * 255.0


def shape_mask(shape: str, size: int, cx: float, cy: float, radius: float) -> np.ndarray:
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    dx, dy = xx - cx, yy - cy
    ax, ay = np.abs(dx), np.abs(dy)
    if shape == 'disc':
        return dx ** 2 + dy ** 2 <= radius ** 2
    if shape == 'square':
        return (ax <= radius * 0.85) & (ay <= radius * 0.85)
    if shape == 'triangle':
        return (dy <= radius * 0.8) & (dy >= -radius) & (ax <= (dy + radius) * 0.6)
    if shape == 'cross':
        w = radius * 0.35
        return ((ax <= w) & (ay <= radius)) | ((ay <= w) & (ax <= radius))
    if shape == 'ring':
        d2 = dx ** 2 + dy ** 2
        return (d2 <= radius ** 2) & (d2 >= (radius * 0.55) ** 2)
    if shape == 'diamond':
        return ax + ay <= radius
    if shape == 'bar':
        return (ax <= radius) & (ay <= radius * 0.35)
    if shape == 'star':
        angle = np.arctan2(dy, dx)
        return np.hypot(dx, dy) <= radius * (0.6 + 0.4 * np.cos(5 * angle))
    raise ValueError(shape)


def tone(timbre: str, freq: float, n: int, sr: int) -> np.ndarray:
    t = np.arange(n) / sr
    phase = 2 * np.pi * freq * t
    if timbre == 'sine':
        return np.sin(phase)
    if timbre == 'square':
        return sum(np.sin(k * phase) / k for k in (1, 3, 5, 7)) * 0.8
    if timbre == 'saw':
        return sum(np.sin(k * phase) / k for k in range(1, 7)) * 0.6
    if timbre == 'bell':
        return np.sin(phase + 2.0 * np.sin(2.76 * phase))
    raise ValueError(timbre)


def make_clip(spec: ClipSpec, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """Returns frames (T, H, W, 3) uint8 and audio (n_samples,) float32."""
    k, size, fps, nf, sr = (spec.class_idx, spec.size, spec.fps, spec.num_frames,
                            spec.sample_rate)
    shape, timbre = SHAPES[k], TIMBRES[k % len(TIMBRES)]
    period = PERIODS[k]
    spf = sr // fps  # audio samples per frame (exact for the defaults)
    n_samples = nf * sr // fps

    # Onsets: the class's period, a random phase, a small random jitter.
    onsets, f = [], int(rng.integers(0, period))
    while f < nf:
        onsets.append(f)
        f += period + int(rng.integers(-1, 2)) if period > 4 else period
    notes = rng.integers(0, len(SCALE), size=len(onsets))
    xs = rng.uniform(0.2, 0.8, size=len(onsets)) * size
    radius = size * 0.13

    # Background: smooth random texture plus per-frame noise (fixed per clip).
    base = rng.uniform(30, 90, size=3)
    lowres = rng.uniform(-25, 25, size=(4, 4, 3))
    reps = int(np.ceil(size / 4))
    texture = np.kron(lowres, np.ones((reps, reps, 1)))[:size, :size]
    background = np.clip(base + texture, 0, 255)

    # Silent distractor: grey square bouncing at constant speed.
    dpos = rng.uniform(0.2, 0.8, size=2) * size
    dvel = rng.uniform(-1, 1, size=2)
    dvel = dvel / (np.linalg.norm(dvel) + 1e-6) * size * rng.uniform(0.02, 0.05)
    dgrey = rng.uniform(110, 200)

    frames = np.empty((nf, size, size, 3), np.uint8)
    audio = np.zeros(n_samples, np.float64)
    onset_of_frame = np.searchsorted(onsets, np.arange(nf), side='right') - 1
    decay = 3.0 + 0.2 * period  # frames of the visual/audio decay constant
    for i in range(nf):
        img = background + rng.normal(0, 6, size=(size, size, 3))
        dmask = shape_mask('square', size, dpos[0], dpos[1], radius * 0.7)
        img[dmask] = dgrey
        dpos += dvel
        for ax in range(2):
            if not radius < dpos[ax] < size - radius:
                dvel[ax] = -dvel[ax]
                dpos[ax] = np.clip(dpos[ax], radius, size - radius)
        j = onset_of_frame[i]
        if j >= 0:
            note = int(notes[j])
            env = np.exp(-(i - onsets[j]) / decay)
            cy = size * (0.8 - 0.6 * note / (len(SCALE) - 1))  # high pitch -> top
            colour = pitch_colour(note) * (0.45 + 0.55 * env)
            img[shape_mask(shape, size, xs[j], cy, radius)] = colour
        frames[i] = np.clip(img, 0, 255).astype(np.uint8)

    for j, start in enumerate(onsets):
        end = onsets[j + 1] if j + 1 < len(onsets) else nf
        a, b = start * spf, min(end * spf, n_samples)
        t = np.arange(b - a) / sr
        env = np.exp(-t * fps / decay) * np.minimum(1.0, t * sr / 32.0)  # 2 ms attack
        audio[a:b] += 0.5 * env * tone(timbre, float(SCALE[notes[j]]), b - a, sr)
    audio += rng.normal(0, 0.01, size=n_samples)  # background hiss
    return frames, np.clip(audio, -1, 1).astype(np.float32)


def write_mp4(path: str, frames: np.ndarray, audio: np.ndarray, fps: int,
              sample_rate: int) -> None:
    import av
    tmp = path + '.part'
    with av.open(tmp, 'w', format='mp4') as container:
        vstream = container.add_stream('libx264', rate=fps,
                                       options={'crf': '18', 'threads': '1'})
        vstream.width, vstream.height = frames.shape[2], frames.shape[1]
        vstream.pix_fmt = 'yuv420p'
        astream = container.add_stream('aac', rate=sample_rate, layout='mono')
        for img in frames:
            frame = av.VideoFrame.from_ndarray(img, format='rgb24')
            container.mux(vstream.encode(frame))
        container.mux(vstream.encode(None))
        aframe = av.AudioFrame.from_ndarray(audio[None], format='flt', layout='mono')
        aframe.sample_rate, aframe.pts = sample_rate, 0
        container.mux(astream.encode(aframe))
        container.mux(astream.encode(None))
    os.replace(tmp, path)


def make_dataset(out: str, seed: int = 0, num_classes: int = 4, clips_per_class: int = 6,
                 size: int = 64, fps: int = 25, duration: float = 3.0,
                 test_fraction: float = 1 / 3) -> dict:
    """Writes the dataset under ``out``; returns a summary dict."""
    if size % 2 or size < 16:
        raise ValueError('--size must be even and >= 16 (yuv420p)')
    if clips_per_class < 2:
        raise ValueError('--clips-per-class must be >= 2 (one train and one test clip)')
    names = class_names(num_classes)
    nf = int(round(duration * fps))
    n_test = min(clips_per_class - 1, max(1, int(round(clips_per_class * test_fraction))))
    ann_dir = osp.join(out, 'annotations')
    os.makedirs(ann_dir, exist_ok=True)
    train, test = [], []
    for k, name in enumerate(names):
        os.makedirs(osp.join(out, 'videos', name), exist_ok=True)
        for c in range(clips_per_class):
            # One generator per clip: a clip depends on (seed, class, index) only.
            rng = np.random.default_rng([seed, k, c])
            frames, audio = make_clip(ClipSpec(k, size, fps, nf), rng)
            # UCF101 names: group = clip index + 1, one clip per group.
            rel = f'{name}/v_{name}_g{c + 1:02d}_c01.mp4'
            write_mp4(osp.join(out, 'videos', rel), frames, audio, fps, SAMPLE_RATE)
            # Like UCF101's split 1, the test set holds the first groups.
            (test if c < n_test else train).append((rel, k))

    def write(path, lines):
        with open(path, 'w') as f:
            f.write(''.join(line + '\n' for line in lines))

    write(osp.join(ann_dir, 'classInd.txt'), [f'{k + 1} {n}' for k, n in enumerate(names)])
    write(osp.join(ann_dir, 'trainlist01.txt'), [f'{r} {k + 1}' for r, k in train])
    write(osp.join(ann_dir, 'testlist01.txt'), [r for r, _ in test])
    write(osp.join(out, 'ucf101_train_split_1_videos.txt'), [f'{r} {k}' for r, k in train])
    write(osp.join(out, 'ucf101_val_split_1_videos.txt'), [f'{r} {k}' for r, k in test])
    return dict(out=out, classes=names, num_train=len(train), num_test=len(test),
                frames_per_clip=nf, size=size, fps=fps, sample_rate=SAMPLE_RATE)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--out', required=True, help='output folder (data root)')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--num-classes', type=int, default=4)
    p.add_argument('--clips-per-class', type=int, default=6)
    p.add_argument('--size', type=int, default=64, help='frame height and width')
    p.add_argument('--fps', type=int, default=25)
    p.add_argument('--duration', type=float, default=3.0, help='seconds per clip')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    t0 = time.time()
    info = make_dataset(args.out, args.seed, args.num_classes, args.clips_per_class,
                        args.size, args.fps, args.duration)
    print(f"demo dataset: {len(info['classes'])} classes, {info['num_train']} train / "
          f"{info['num_test']} test clips, {info['frames_per_clip']} frames of "
          f"{info['size']}x{info['size']} at {info['fps']} fps with "
          f"{info['sample_rate']} Hz AAC audio -> {osp.abspath(args.out)} "
          f'({time.time() - t0:.1f} s)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
