"""ReconstructionMetric: averages, PSNR, evaluator integration, missing fields."""
import math

import pytest
import torch
from mmaction.registry import METRICS, MODELS
from mmaction.structures import ActionDataSample
from mmengine.evaluator import Evaluator


def sample(mse, pix):
    s = ActionDataSample()
    s.rec_mse = torch.tensor(mse)
    s.rec_pixel_mse = torch.tensor(pix)
    s.rec_psnr = torch.tensor(-10 * math.log10(pix))
    return s


def test_values_through_evaluator():
    evaluator = Evaluator(METRICS.build(dict(type='ReconstructionMetric')))
    evaluator.process([sample(0.5, 0.01), sample(1.5, 0.0001)])
    evaluator.process([sample(1.0, 0.001)])
    out = evaluator.evaluate(3)
    assert out['rec/masked_mse'] == pytest.approx(1.0)
    assert out['rec/pixel_mse'] == pytest.approx(0.0111 / 3)
    assert out['rec/psnr'] == pytest.approx((20 + 40 + 30) / 3, rel=1e-5)
    assert out['rec/psnr_of_mean'] == pytest.approx(-10 * math.log10(0.0111 / 3), rel=1e-5)


def test_model_predictions_feed_the_metric():
    model = MODELS.build(dict(
        type='AVMaskEnhancer',
        backbone=dict(type='MaskedVideoViT', img_size=32, num_frames=2,
                      arch=dict(embed_dims=16, depth=1, num_heads=2)),
        decoder=dict(type='VideoMAEDecoder', embed_dims=16, depth=1, num_heads=2))).eval()
    mask = torch.zeros(3, 1, 2, 2, dtype=torch.bool)
    mask[:, :, 0] = True
    preds = model(dict(imgs=torch.randn(3, 1, 3, 2, 32, 32), mask=mask), mode='predict')
    metric = METRICS.build(dict(type='ReconstructionMetric', prefix='val'))
    metric.process({}, [p.to_dict() for p in preds])
    res = metric.evaluate(3)
    assert res['val/masked_mse'] == pytest.approx(
        sum(p.rec_mse.item() for p in preds) / 3, rel=1e-6)
    assert 0 < res['val/psnr'] < 100


def test_missing_fields_raise():
    metric = METRICS.build(dict(type='ReconstructionMetric'))
    with pytest.raises(KeyError, match='rec_mse'):
        metric.process({}, [dict(pred_score=torch.zeros(3))])
