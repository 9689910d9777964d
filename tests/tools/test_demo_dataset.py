"""tools/data/make_demo_dataset.py: deterministic, decodable mp4 with audio, sound lists,
and the sound decides the object (checked on the decoded files)."""
import filecmp
import os
import os.path as osp
import subprocess
import sys

import av
import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
TOOL = osp.join(REPO, 'tools', 'data', 'make_demo_dataset.py')
ARGS = ['--num-classes', '3', '--clips-per-class', '3', '--duration', '1.2']
FPS, SIZE, NUM_FRAMES = 25, 64, 30


def _make(out, seed):
    proc = subprocess.run([sys.executable, TOOL, '--out', str(out), '--seed', str(seed)] + ARGS,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 'demo dataset: 3 classes' in proc.stdout
    return str(out)


@pytest.fixture(scope='module')
def demo_sets(tmp_path_factory):
    root = tmp_path_factory.mktemp('demo')
    return dict(a=_make(root / 'a', 0), b=_make(root / 'b', 0), c=_make(root / 'c', 1))


def _videos(root):
    rels = []
    for dirpath, _, names in os.walk(osp.join(root, 'videos')):
        rels += [osp.relpath(osp.join(dirpath, n), osp.join(root, 'videos'))
                 for n in names if n.endswith('.mp4')]
    return sorted(rels)


def _decode(path):
    """(frames uint8 (T, H, W, 3), mono audio float32, audio stream facts)."""
    with av.open(path) as c:
        assert len(c.streams.video) == 1 and len(c.streams.audio) == 1, path
        vs, as_ = c.streams.video[0], c.streams.audio[0]
        facts = dict(vcodec=vs.codec_context.name, acodec=as_.codec_context.name,
                     rate=as_.codec_context.sample_rate, channels=as_.codec_context.channels)
        frames = np.stack([f.to_ndarray(format='rgb24') for f in c.decode(vs)])
    with av.open(path) as c:
        audio = np.concatenate([f.to_ndarray().reshape(-1)
                                for f in c.decode(c.streams.audio[0])])
    return frames, audio.astype(np.float32), facts


def test_same_seed_identical_other_seed_different(demo_sets):
    a, b, c = demo_sets['a'], demo_sets['b'], demo_sets['c']
    rels = _videos(a)
    assert rels == _videos(b) == _videos(c)
    assert len(rels) == 9
    for rel in rels:
        fa, aa, _ = _decode(osp.join(a, 'videos', rel))
        fb, ab, _ = _decode(osp.join(b, 'videos', rel))
        fc, ac, _ = _decode(osp.join(c, 'videos', rel))
        np.testing.assert_array_equal(fa, fb)
        np.testing.assert_array_equal(aa, ab)
        # another seed: other notes, positions and noise in picture and sound
        assert fa.shape == fc.shape
        assert np.abs(fa.astype(int) - fc.astype(int)).mean() > 1.0, rel
        n = min(len(aa), len(ac))
        assert np.abs(aa[:n] - ac[:n]).mean() > 1e-3, rel
    # the generator documents byte-identical output for the same seed
    for name in ['ucf101_train_split_1_videos.txt', 'ucf101_val_split_1_videos.txt',
                 'annotations/classInd.txt'] + [f'videos/{r}' for r in rels]:
        assert filecmp.cmp(osp.join(a, name), osp.join(b, name), shallow=False), name


def test_clips_decode_with_audio(demo_sets):
    root = demo_sets['a']
    for rel in _videos(root):
        frames, audio, facts = _decode(osp.join(root, 'videos', rel))
        assert facts['vcodec'] == 'h264' and facts['acodec'] == 'aac', facts
        assert facts['rate'] == 16000 and facts['channels'] == 1, facts
        assert frames.shape == (NUM_FRAMES, SIZE, SIZE, 3)
        assert frames.std() > 5  # not a blank picture
        duration = len(audio) / facts['rate']
        assert abs(duration - NUM_FRAMES / FPS) < 0.1, (rel, duration)
        assert np.sqrt(np.mean(audio ** 2)) > 0.02, rel  # a sounding track


def test_lists_well_formed(demo_sets):
    root = demo_sets['a']
    with open(osp.join(root, 'annotations', 'classInd.txt')) as f:
        class_ind = [line.split() for line in f.read().splitlines()]
    assert [int(i) for i, _ in class_ind] == [1, 2, 3]
    label_of = {name: int(i) - 1 for i, name in class_ind}
    seen = {}
    for split in ('train', 'val'):
        with open(osp.join(root, f'ucf101_{split}_split_1_videos.txt')) as f:
            lines = f.read().splitlines()
        assert lines
        for line in lines:
            rel, label = line.split(' ')
            assert osp.isfile(osp.join(root, 'videos', rel)), rel
            assert int(label) == label_of[rel.split('/')[0]], line
            assert rel not in seen, f'{rel} in {seen.get(rel)} and {split}'
            seen[rel] = split
    assert sorted(seen) == _videos(root)  # every clip in exactly one list
    for name in label_of:  # every class in both splits
        assert {s for r, s in seen.items() if r.startswith(name + '/')} == {'train', 'val'}
    # UCF101's own 1-based files agree with the 0-based lists
    with open(osp.join(root, 'annotations', 'trainlist01.txt')) as f:
        train01 = [line.split() for line in f.read().splitlines()]
    assert {r: int(k) - 1 for r, k in train01} == {r: label_of[r.split('/')[0]]
                                                    for r, s in seen.items() if s == 'train'}
    with open(osp.join(root, 'annotations', 'testlist01.txt')) as f:
        test01 = f.read().splitlines()
    assert sorted(test01) == sorted(r for r, s in seen.items() if s == 'val')


def _meta(root, rel):
    stem = osp.join(root, 'videos', osp.splitext(rel)[0])
    with np.load(stem + '.objects.npz') as data:
        masks, params = data['object_mask'], data['frame_params']
    import json
    with open(stem + '.json') as f:
        return masks, params, json.load(f)


def test_decoded_object_follows_the_sound(demo_sets):
    """Ground truth from the decoded files, not from the generator's arrays:
    while a note sounds, the decoded picture shows the note's colour inside the
    object mask (bright stripes) and the decoded audio peaks at the note's pitch;
    between notes the track is near silent and no object is drawn."""
    sys.path.insert(0, osp.join(REPO, 'tools', 'data'))
    import make_demo_dataset as gen
    root = demo_sets['a']
    checked = 0
    for rel in _videos(root):
        frames, audio, facts = _decode(osp.join(root, 'videos', rel))
        masks, params, meta = _meta(root, rel)
        assert masks.shape == frames.shape[:3] and params.shape == (len(frames), 4)
        spf = facts['rate'] // FPS
        for note in meta['notes']:
            on = range(note['onset'], note['offset'])
            assert all(params[i, 0] == 1 and params[i, 1] == note['pitch'] for i in on)
            # picture: the brightest object pixels have the pitch's colour
            colour = gen.pitch_colour(note['pitch'])
            inside = frames[note['onset']][masks[note['onset']]].astype(float)
            bright = inside[inside.sum(1) > np.percentile(inside.sum(1), 60)]
            assert np.abs(bright.mean(0) - colour).max() < 25, (rel, note, bright.mean(0))
            # sound: the spectral peak of the note's middle is at its pitch
            a = (note['onset'] * spf + note['offset'] * spf) // 2
            seg = audio[a - 1024:a + 1024] if a >= 1024 else audio[:2048]
            if len(seg) == 2048 and note['offset'] - note['onset'] >= 3:
                spec = np.abs(np.fft.rfft(seg * np.hanning(len(seg))))
                peak = np.argmax(spec) * facts['rate'] / len(seg)
                assert abs(peak - note['freq_hz']) < 0.03 * note['freq_hz'] + 8, (rel, peak)
                checked += 1
        silent = [i for i in range(len(frames)) if params[i, 0] == 0]
        assert not masks[silent].any()
        for i in silent[1:-1]:
            if params[i - 1, 0] == 0 and params[i + 1, 0] == 0:
                seg = audio[i * spf:(i + 1) * spf]
                assert np.sqrt(np.mean(seg ** 2)) < 0.01, (rel, i)
    assert checked >= 5


def test_object_covers_enough_masked_tubelets(demo_sets):
    """Under the demo's 90 % tube mask (16 x 16 patches, tubelet 2) the object
    fills at least 15 % of the masked tubelets (object: >= 25 % of its pixels)."""
    root = demo_sets['a']
    rng = np.random.default_rng(0)
    object_tubes, total = 0, 0
    for rel in _videos(root):
        masks, _, _ = _meta(root, rel)
        t = (len(masks) // 2) * 2
        frac = masks[:t].reshape(t // 2, 2, 4, 16, 4, 16).mean(axis=(1, 3, 5))  # (T', 4, 4)
        for _ in range(4):
            hidden = np.zeros(16, bool)
            hidden[rng.permutation(16)[:14]] = True
            sel = frac[:, hidden.reshape(4, 4)]
            object_tubes += int((sel >= 0.25).sum())
            total += sel.size
    assert object_tubes / total >= 0.15, object_tubes / total
