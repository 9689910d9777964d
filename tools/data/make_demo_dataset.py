"""Writes a small synthetic audio-visual dataset in UCF101's layout, in which the
sound decides what the masked video hides.

Each clip is a real mp4 (h264 video, AAC mono audio): a smooth, static colour
gradient (the background, predictable from any visible patch) and one large
*sounding object*, a striped disc at the centre of the frame. The object is
drawn only while its note sounds, and every property of it comes from the
note, none from anything else in the picture:

* pitch (6 notes over three octaves) -> the object's colour (hue);
* timbre (sine / square / saw / bell) -> the orientation of its stripes
  (0, 45, 90, 135 degrees), the structure that survives VideoMAE's per-patch
  normalised target, which removes each patch's mean colour;
* loudness (soft / loud) -> its radius (16 / 23 px at 64 px);
* the note envelope -> when it appears and disappears.

The class is the rhythm: the period between note onsets, which the audio
(onsets) and the video (the object blinking) both carry.

Under the demo config's 90 % tube mask (2 of 16 patch columns visible at
64 px) the object covers about a third of the masked tubelets and is mostly
hidden, so a video-only model can only guess its colour, stripes and size;
the audio says all three.

Output (MMAction2's ``data/ucf101`` layout)::

    OUT/videos/<Class>/v_<Class>_gXX_cYY.mp4
    OUT/videos/<Class>/v_<Class>_gXX_cYY.objects.npz   per-frame object mask
        ``object_mask`` (T, H, W) bool and per-frame parameters (see below),
        read by ``LoadObjectMask`` (pipeline key ``object_mask``)
    OUT/videos/<Class>/v_<Class>_gXX_cYY.json           the generating parameters
    OUT/annotations/classInd.txt            "1 Class" (1-based, UCF101 format)
    OUT/annotations/trainlist01.txt         "Class/v_....mp4 1"  (1-based)
    OUT/annotations/testlist01.txt          "Class/v_....mp4"    (no labels)
    OUT/ucf101_train_split_1_videos.txt     "Class/v_....mp4 0"  (0-based)
    OUT/ucf101_val_split_1_videos.txt       "Class/v_....mp4 0"

The ``.objects.npz`` also holds ``frame_params`` (T, 4) float32 per frame:
(note on 0/1, pitch index, timbre index, loud 0/1), -1 where no note sounds;
the fusion ablation's oracle reads it.

Everything is a function of ``--seed`` (and the size options): the same seed
gives byte-identical files, a different seed different clips.
"""
from __future__ import annotations

import argparse
import colorsys
import json
import os
import os.path as osp
import sys
import time
from dataclasses import dataclass
from typing import Dict, List, Tuple

import numpy as np

CLASS_NAMES = ['Fast', 'Brisk', 'Steady', 'Slow', 'Lazy', 'Crawl']
PERIODS = [5, 8, 11, 15, 19, 23]          # frames between note onsets, per class
# Three octaves in six steps (Hz): far apart on the mel scale, so MFCCs differ.
PITCHES = np.array([220.0, 370.0, 622.3, 1046.5, 1760.0, 2960.0])
TIMBRES = ['sine', 'square', 'saw', 'bell']
STRIPE_ANGLES = [0.0, 45.0, 90.0, 135.0]  # degrees, one per timbre
LOUDNESS = [0.2, 0.7]                     # soft, loud (peak amplitude)
RADII = [0.25, 0.36]                      # object radius / frame size, soft and loud
STRIPE_PERIOD = 0.125                     # stripe period / frame size (8 px at 64)
STRIPE_DARK = 0.8                         # brightness of the dark stripes
SAMPLE_RATE = 16000
OBJECT_SUFFIX = '.objects.npz'
PARAMS_SUFFIX = '.json'


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


def pitch_colour(pitch: int) -> np.ndarray:
    """(3,) RGB on the 0-255 scale: one saturated hue per pitch."""
    r, g, b = colorsys.hsv_to_rgb(pitch / len(PITCHES), 1.0, 1.0)
    return np.array([r, g, b]) * 255.0


def tone(timbre: str, freq: float, n: int, sr: int) -> np.ndarray:
    """(n,) waveform of peak about 1; harmonics stay below Nyquist."""
    t = np.arange(n) / sr
    phase = 2 * np.pi * freq * t
    if timbre == 'sine':
        return np.sin(phase)
    if timbre == 'bell':  # inharmonic partials (church-bell ratios), fundamental loudest
        partials = [(1.0, 1.0), (2.76, 0.5), (5.40, 0.3), (8.93, 0.2)]
    elif timbre == 'square':
        partials = [(k, 1.0 / k) for k in range(1, 16, 2)]
    elif timbre == 'saw':
        partials = [(k, 1.0 / k) for k in range(1, 16)]
    else:
        raise ValueError(timbre)
    wave = sum(a * np.sin(r * phase) for r, a in partials if r * freq < 0.45 * sr)
    return wave / np.abs(wave).max()


def object_pattern(size: int, radius: float, angle: float, colour: np.ndarray
                   ) -> Tuple[np.ndarray, np.ndarray]:
    """The striped disc at the frame centre.

    Returns:
        (mask (H, W) bool, image (H, W, 3) float): stripes alternate the full
        colour and ``STRIPE_DARK`` of it, ``STRIPE_PERIOD * size`` pixels per
        period. Low contrast: in raw pixels the colour dominates the object,
        and the per-patch normalised target still sees the stripes.
    """
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    dx, dy = xx - size / 2, yy - size / 2
    mask = dx ** 2 + dy ** 2 <= radius ** 2
    theta = np.deg2rad(angle)
    along = dx * np.cos(theta) + dy * np.sin(theta)
    bright = np.floor(along / (STRIPE_PERIOD * size)).astype(int) % 2 == 0
    image = colour[None, None] * np.where(bright, 1.0, STRIPE_DARK)[..., None]
    return mask, image


def background(size: int, rng: np.random.Generator) -> np.ndarray:
    """(H, W, 3) a linear gradient between two muted colours, random direction."""
    c0 = rng.uniform(50, 110, size=3)
    c1 = c0 + rng.uniform(-40, 40, size=3)
    theta = rng.uniform(0, 2 * np.pi)
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float64) / (size - 1) - 0.5
    ramp = (xx * np.cos(theta) + yy * np.sin(theta)) / np.sqrt(0.5) * 0.5 + 0.5
    return c0 + (c1 - c0) * ramp[..., None]


def make_clip(spec: ClipSpec, rng: np.random.Generator
              ) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Dict]:
    """One clip.

    Returns:
        frames (T, H, W, 3) uint8, audio (n_samples,) float32, object mask
        (T, H, W) bool, frame_params (T, 4) float32 (on, pitch, timbre, loud;
        -1 when silent) and the generating parameters as a JSON-able dict.
    """
    k, size, fps, nf, sr = (spec.class_idx, spec.size, spec.fps, spec.num_frames,
                            spec.sample_rate)
    period = PERIODS[k]
    on_frames = max(2, int(round(0.6 * period)))  # then silence until the next onset
    spf = sr / fps
    n_samples = int(round(nf * spf))

    notes, f = [], int(rng.integers(0, period))
    while f < nf:
        notes.append(dict(onset=f, offset=min(f + on_frames, nf),
                          pitch=int(rng.integers(len(PITCHES))),
                          timbre=int(rng.integers(len(TIMBRES))),
                          loud=int(rng.integers(len(LOUDNESS)))))
        f += period

    bg = background(size, rng)
    frames = np.empty((nf, size, size, 3), np.uint8)
    masks = np.zeros((nf, size, size), bool)
    frame_params = np.full((nf, 4), -1.0, np.float32)
    frame_params[:, 0] = 0.0
    noise = rng.normal(0, 1.5, size=(nf, size, size, 3))
    current = {}
    for note in notes:
        for i in range(note['onset'], note['offset']):
            current[i] = note
    for i in range(nf):
        img = bg.copy()
        note = current.get(i)
        if note is not None:
            mask, pattern = object_pattern(size, RADII[note['loud']] * size,
                                           STRIPE_ANGLES[note['timbre']],
                                           pitch_colour(note['pitch']))
            img[mask] = pattern[mask]
            masks[i] = mask
            frame_params[i] = (1.0, note['pitch'], note['timbre'], note['loud'])
        frames[i] = np.clip(img + noise[i], 0, 255).round().astype(np.uint8)

    audio = np.zeros(n_samples, np.float64)
    ramp = int(0.004 * sr)  # 4 ms attack and release: onsets without clicks
    for note in notes:
        a, b = int(round(note['onset'] * spf)), int(round(note['offset'] * spf))
        wave = tone(TIMBRES[note['timbre']], float(PITCHES[note['pitch']]), b - a, sr)
        env = np.ones(b - a)
        env[:ramp] = np.linspace(0, 1, ramp)
        env[-ramp:] = np.minimum(env[-ramp:], np.linspace(1, 0, ramp))
        audio[a:b] += LOUDNESS[note['loud']] * env * wave
    audio += rng.normal(0, 0.002, size=n_samples)  # faint hiss: silence is not digital zero
    params = dict(class_idx=k, period_frames=period, on_frames=on_frames, fps=fps,
                  size=size, num_frames=nf, sample_rate=sr,
                  notes=[dict(n, freq_hz=float(PITCHES[n['pitch']]),
                              timbre_name=TIMBRES[n['timbre']],
                              stripe_angle_deg=STRIPE_ANGLES[n['timbre']],
                              radius_px=RADII[n['loud']] * size,
                              colour_rgb=[round(float(c), 1) for c in pitch_colour(n['pitch'])])
                         for n in notes])
    return (frames, np.clip(audio, -1, 1).astype(np.float32), masks, frame_params, params)


def write_mp4(path: str, frames: np.ndarray, audio: np.ndarray, fps: int,
              sample_rate: int) -> None:
    import av
    tmp = path + '.part'
    with av.open(tmp, 'w', format='mp4') as container:
        vstream = container.add_stream('libx264', rate=fps,
                                       options={'crf': '14', 'threads': '1'})
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
    coverage = []
    for k, name in enumerate(names):
        os.makedirs(osp.join(out, 'videos', name), exist_ok=True)
        for c in range(clips_per_class):
            # One generator per clip: a clip depends on (seed, class, index) only.
            rng = np.random.default_rng([seed, k, c])
            frames, audio, masks, frame_params, params = make_clip(
                ClipSpec(k, size, fps, nf), rng)
            # UCF101 names: group = clip index + 1, one clip per group.
            rel = f'{name}/v_{name}_g{c + 1:02d}_c01.mp4'
            path = osp.join(out, 'videos', rel)
            write_mp4(path, frames, audio, fps, SAMPLE_RATE)
            stem = osp.splitext(path)[0]
            np.savez_compressed(stem + OBJECT_SUFFIX, object_mask=masks,
                                frame_params=frame_params)
            with open(stem + PARAMS_SUFFIX, 'w') as f:
                json.dump(params, f, indent=1)
            coverage.append(masks.mean())
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
                frames_per_clip=nf, size=size, fps=fps, sample_rate=SAMPLE_RATE,
                object_pixel_fraction=float(np.mean(coverage)))


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
          f"{info['sample_rate']} Hz AAC audio, sounding object on "
          f"{100 * info['object_pixel_fraction']:.1f} % of the pixels -> "
          f'{osp.abspath(args.out)} ({time.time() - t0:.1f} s)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
