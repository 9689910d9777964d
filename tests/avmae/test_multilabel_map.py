"""Multi-label (AudioSet) scoring: MMAction2's AccMetric mAP on AVCsvDataset's one-hot
labels against hand-computed average precisions, and the AudioSet config's BCE head."""
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmaction.registry import DATASETS, METRICS, MODELS
from mmaction.structures import ActionDataSample
from mmengine.config import Config
from mmengine.registry import init_default_scope

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@pytest.fixture(autouse=True)
def _scope():
    init_default_scope('mmaction')


def audioset_rows(tmp_path):
    (tmp_path / 'mids.txt').write_text('/m/a\n/m/b\n/m/c\n/m/d\n')
    (tmp_path / 'list.csv').write_text(
        '# YTID, start_seconds, end_seconds, positive_labels\n'
        'x0, 30.000, 40.000, "/m/a,/m/c"\n'
        'x1, 0.000, 10.000, "/m/b"\n'
        'x2, 10.000, 20.000, "/m/a"\n')
    return DATASETS.build(dict(
        type='AVCsvDataset', ann_file=str(tmp_path / 'list.csv'), pipeline=[],
        data_prefix=dict(video=str(tmp_path)), classes=str(tmp_path / 'mids.txt'),
        filename_format='{0}.mp4', label_column=3, multi_class=True))


def test_accmetric_map_on_one_hot_labels_matches_hand_computed_ap(tmp_path):
    ds = audioset_rows(tmp_path)
    scores = torch.tensor([[0.9, 0.2, 0.3, 0.5],
                           [0.8, 0.7, 0.1, 0.2],
                           [0.1, 0.6, 0.4, 0.9]])
    samples = []
    for i in range(3):
        s = ActionDataSample().set_gt_label(ds.get_data_info(i)['label'])
        s.set_pred_score(scores[i])
        samples.append(s.to_dict())
    metric = METRICS.build(dict(type='AccMetric', metric_list=('mean_average_precision', )))
    metric.process({}, samples)
    result = metric.compute_metrics(metric.results)
    # Ranking each class's clips by score (labels: a = x0, x2; b = x1; c = x0; d = none):
    #   a: 0.9 (+), 0.8 (-), 0.1 (+) -> AP = (1/1 + 2/3) / 2 = 5/6
    #   b: 0.7 (+) first              -> AP = 1
    #   c: 0.4 (-), 0.3 (+)           -> AP = 1/2
    #   d: no positive clip           -> left out (undefined AP)
    # The one-label row x1 must count as multi-label too (its one-hot has 4 entries).
    expected = (5 / 6 + 1 + 1 / 2) / 3
    assert result['mean_average_precision'] == pytest.approx(expected, abs=1e-9)


def test_audioset_config_head_is_binary_cross_entropy_on_smoothed_one_hot(tmp_path):
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'avmae_audioset_finetune_mbt.py'))
    head = MODELS.build(cfg.model.cls_head)
    ds = audioset_rows(tmp_path)
    onehot = torch.stack([ds.get_data_info(i)['label'] for i in range(3)])
    labels = torch.zeros(3, 527)
    labels[:, :4] = onehot
    samples = [ActionDataSample().set_gt_label(y) for y in labels]
    torch.manual_seed(0)
    logits = torch.randn(3, 527)
    loss = head.loss_by_feat(logits, samples)['loss_cls']
    eps = cfg.model.cls_head.label_smooth_eps
    target = (1 - eps) * labels + eps / 527
    torch.testing.assert_close(loss, F.binary_cross_entropy_with_logits(logits, target))
