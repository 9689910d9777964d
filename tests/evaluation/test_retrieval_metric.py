"""AVRetrievalMetric: known rankings, pessimistic ties, bad input, multi-process collection."""
import math
import os.path as osp

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from mmaction.registry import METRICS
from mmaction.structures import ActionDataSample
from mmengine.evaluator import Evaluator

import mmav_mask  # noqa: F401

R = 1 / math.sqrt(2)


def _samples(audio, video, valid=None, with_idx=True):
    out = []
    for i, (a, v) in enumerate(zip(audio, video)):
        s = ActionDataSample()
        if with_idx:
            s.set_metainfo(dict(sample_idx=i, filename=f'clip{i}.mp4'))
        s.audio_embedding = torch.as_tensor(a, dtype=torch.float32)
        s.video_embedding = torch.as_tensor(v, dtype=torch.float32)
        if valid is not None:
            s.audio_valid = torch.tensor(bool(valid[i]))
        out.append(s)
    return out


def _evaluate(samples, **kw):
    evaluator = Evaluator(METRICS.build(dict(type='AVRetrievalMetric', **kw)))
    evaluator.process([s.to_dict() for s in samples])  # as mmengine's loops pass them
    return evaluator.evaluate(len(samples))


def test_identity_is_perfect_and_chance_is_reported():
    n = 12
    out = _evaluate(_samples(np.eye(n), np.eye(n)))
    assert out['retrieval/a2v_R@1'] == 100.0
    assert out['retrieval/a2v_R@10'] == 100.0
    assert out['retrieval/a2v_median_rank'] == 1.0
    assert out['retrieval/num_queries'] == 12
    assert out['retrieval/chance_R@1'] == pytest.approx(100 / 12)
    assert out['retrieval/chance_R@5'] == pytest.approx(500 / 12)
    assert out['retrieval/chance_R@10'] == pytest.approx(1000 / 12)
    assert out['retrieval/chance_median_rank'] == 6.5


def test_prescribed_ranks():
    # video_j = e_j; audio_i weights e_j by its place in a chosen order, so
    # cos(audio_i, video_j) falls along that order and the true clip i sits at rank r_i
    ranks = [1, 1, 2, 3, 5, 6, 10, 11, 12, 1, 4, 7]
    n = len(ranks)
    audio = np.zeros((n, n))
    for i, r in enumerate(ranks):
        others = [j for j in range(n) if j != i]
        order = others[:r - 1] + [i] + others[r - 1:]
        for place, j in enumerate(order):
            audio[i, j] = n - place
    out = _evaluate(_samples(audio, np.eye(n)))
    # by hand: 3 ranks of 1; 7 ranks <= 5; 10 ranks <= 10; sorted ranks
    # 1 1 1 2 3 4 | 5 6 7 10 11 12 -> median (4 + 5) / 2; sum 63 -> mean 5.25
    assert out['retrieval/a2v_R@1'] == pytest.approx(100 * 3 / 12)
    assert out['retrieval/a2v_R@5'] == pytest.approx(100 * 7 / 12)
    assert out['retrieval/a2v_R@10'] == pytest.approx(100 * 10 / 12)
    assert out['retrieval/a2v_median_rank'] == 4.5
    assert out['retrieval/a2v_mean_rank'] == 5.25


def test_hand_computed_3x3_both_directions_with_a_tie():
    # cos(a_i, v_j) = [[1, R, -R], [0, R, R], [R, 1, 0]]
    audio = [[1, 0], [0, 1], [1, 1]]
    video = [[1, 0], [1, 1], [-1, 1]]
    out = _evaluate(_samples(audio, video), topk=(1, 2), directions=('a2v', 'v2a'))
    # a2v: row 0 true 1 is best -> 1; row 1 true R ties with v_2 (R) -> 2 (pessimistic);
    # row 2 true 0 below R and 1 -> 3
    assert out['retrieval/a2v_R@1'] == pytest.approx(100 / 3)
    assert out['retrieval/a2v_R@2'] == pytest.approx(200 / 3)
    assert out['retrieval/a2v_median_rank'] == 2.0
    # v2a (columns): col 0 true 1 -> 1; col 1 true R ties a_0 (R), below a_2 (1) -> 3;
    # col 2 true 0 below a_1 (R) -> 2
    assert out['retrieval/v2a_R@1'] == pytest.approx(100 / 3)
    assert out['retrieval/v2a_mean_rank'] == 2.0
    assert out['retrieval/v2a_R@2'] == pytest.approx(200 / 3)


def test_directions_differ():
    # audio_0 = e0 + e1 + e2 scores 1/sqrt(3) with every video: a2v rank 3 (ties);
    # audio_1 = e1, audio_2 = e2: rank 1. v2a: video_j = e_j scores 1 with audio_j
    # (j > 0) and 1/sqrt(3) > 0 with audio_0 for j = 0: rank 1 everywhere
    audio = [[1, 1, 1], [0, 1, 0], [0, 0, 1]]
    out = _evaluate(_samples(audio, np.eye(3)), directions=('a2v', 'v2a'))
    assert out['retrieval/a2v_R@1'] == pytest.approx(200 / 3)
    assert out['retrieval/a2v_mean_rank'] == pytest.approx(5 / 3)
    assert out['retrieval/v2a_R@1'] == 100.0
    assert out['retrieval/v2a_median_rank'] == 1.0


def test_collapsed_embeddings_rank_last():
    # every video the same vector: all scores tie, pessimistic rank N for every query
    n = 6
    out = _evaluate(_samples(np.random.default_rng(0).normal(size=(n, 4)), np.ones((n, 4))))
    assert out['retrieval/a2v_R@1'] == 0.0
    assert out['retrieval/a2v_R@5'] == 0.0
    assert out['retrieval/a2v_median_rank'] == 6.0


def test_derangement_scores_below_chance():
    # audio_i = video_(i+1): the top hit is always the wrong clip; the true one ties at 0
    # with the rest (orthonormal) -> rank N
    n = 5
    out = _evaluate(_samples(np.roll(np.eye(n), 1, axis=1), np.eye(n)))
    assert out['retrieval/a2v_R@1'] == 0.0
    assert out['retrieval/a2v_median_rank'] == 5.0


def test_clips_without_audio_are_not_queries():
    n = 4
    audio = np.roll(np.eye(n), 1, axis=1)
    audio[0] = np.eye(n)[0]  # only clip 0 retrieves its own video
    valid = [True, False, False, False]
    out = _evaluate(_samples(audio, np.eye(n), valid=valid), directions=('a2v', 'v2a'))
    assert out['retrieval/a2v_R@1'] == 100.0  # one query, clip 0
    assert out['retrieval/v2a_R@1'] == 100.0  # one query, one gallery item
    assert out['retrieval/chance_R@1'] == 25.0  # the video gallery holds all 4 clips


def test_repeated_samples_are_kept_once():
    n = 4
    samples = _samples(np.eye(n), np.eye(n))
    out = _evaluate(samples + samples[:1])
    assert out['retrieval/num_queries'] == 4 and out['retrieval/a2v_R@1'] == 100.0


def test_bad_input_names_the_problem():
    good = _samples(np.eye(2), np.eye(2))
    missing = ActionDataSample()
    missing.audio_embedding = torch.ones(2)
    metric = METRICS.build(dict(type='AVRetrievalMetric'))
    with pytest.raises(KeyError, match='video_embedding'):
        metric.process({}, [missing.to_dict()])
    wrong = ActionDataSample()
    wrong.audio_embedding, wrong.video_embedding = torch.ones(2), torch.ones(3)
    with pytest.raises(ValueError, match='differ in size'):
        metric.process({}, [wrong])
    nan = ActionDataSample()
    nan.audio_embedding, nan.video_embedding = torch.tensor([1., float('nan')]), torch.ones(2)
    with pytest.raises(ValueError, match='non-finite'):
        metric.process({}, [nan])
    with pytest.raises(ValueError, match='directions'):
        METRICS.build(dict(type='AVRetrievalMetric', directions=('a2t', )))
    with pytest.raises(ValueError, match='no samples'):
        metric.compute_metrics([])
    metric.process({}, good)  # objects as well as dicts
    assert len(metric.results) == 2


# ------------------------------------------------ multi-process collection (gloo)
N_DIST = 5
DIST_RANKS = [1, 2, 1, 4, 3]


def _dist_samples():
    audio = np.zeros((N_DIST, N_DIST))
    for i, r in enumerate(DIST_RANKS):
        others = [j for j in range(N_DIST) if j != i]
        for place, j in enumerate(others[:r - 1] + [i] + others[r - 1:]):
            audio[i, j] = N_DIST - place
    return _samples(audio, np.eye(N_DIST))


def _worker(rank, world, tmp):
    dist.init_process_group('gloo', init_method=f'file://{tmp}/pg', rank=rank,
                            world_size=world)
    torch.set_num_threads(1)
    samples = _dist_samples()
    # DefaultSampler without shuffle: rank r takes r, r + 2, ...; padded with index 0
    indices = list(range(N_DIST)) + [0]
    evaluator = Evaluator(METRICS.build(dict(type='AVRetrievalMetric', topk=(1, 2))))
    evaluator.process([samples[i].to_dict() for i in indices[rank::world]])
    out = evaluator.evaluate(N_DIST)
    torch.save({k: torch.tensor(v) for k, v in out.items()}, osp.join(tmp, f'rank{rank}.pt'))
    dist.destroy_process_group()


def test_two_processes_collect_the_whole_list(tmp_path):
    one = _evaluate(_dist_samples(), topk=(1, 2))
    assert one['retrieval/a2v_R@1'] == 40.0 and one['retrieval/a2v_median_rank'] == 2.0
    mp.start_processes(_worker, args=(2, str(tmp_path)), nprocs=2, start_method='fork')
    for r in range(2):
        two = torch.load(tmp_path / f'rank{r}.pt', weights_only=True)
        assert set(two) == set(one)
        for key, value in one.items():
            assert float(two[key]) == pytest.approx(value), key
