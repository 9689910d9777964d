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


def _region_sample(obj, bg, pix_obj=None, pix_bg=None):
    """A prediction with region sums for known per-value errors (100 object values,
    300 background values)."""
    s = sample(1.0, 0.01)
    s.rec_regions = torch.tensor([[obj * 100, (pix_obj or obj) * 100, 100],
                                  [bg * 300, (pix_bg or bg) * 300, 300]], dtype=torch.float64)
    return s


def test_region_figures_pool_over_values():
    metric = METRICS.build(dict(type='ReconstructionMetric'))
    metric.process({}, [_region_sample(0.5, 0.1), _region_sample(1.5, 0.3, 0.01, 0.001)])
    res = metric.evaluate(2)
    assert res['rec/object_masked_mse'] == pytest.approx(1.0)
    assert res['rec/background_masked_mse'] == pytest.approx(0.2)
    assert res['rec/object_pixel_mse'] == pytest.approx((0.5 + 0.01) / 2)
    assert res['rec/object_psnr'] == pytest.approx(-10 * math.log10(0.255))
    assert res['rec/object_share'] == pytest.approx(0.25)


def test_no_region_keys_without_object_masks():
    metric = METRICS.build(dict(type='ReconstructionMetric'))
    metric.process({}, [_region_sample(0.5, 0.1), sample(1.0, 0.01)])
    assert not any('object' in k or 'background' in k for k in metric.evaluate(2))


def test_model_scores_object_and_background_tubelets_apart():
    """Known answer: a raw-pixel model whose prediction equals the target
    except +0.5 on every value of the tubelets that are >= 25 % object."""
    model = MODELS.build(dict(
        type='AVMaskEnhancer',
        backbone=dict(type='MaskedVideoViT', img_size=32, num_frames=2,
                      arch=dict(embed_dims=16, depth=1, num_heads=2)),
        decoder=dict(type='VideoMAEDecoder', embed_dims=16, depth=1, num_heads=2),
        head=dict(type='PixelReconstructionHead', norm_pix=False, object_threshold=0.25,
                  mean=[0, 0, 0], std=[255, 255, 255]))).eval()
    imgs = torch.rand(1, 3, 2, 32, 32) * 0.5
    mask = torch.ones(1, 1, 2, 2, dtype=torch.bool)
    mask[0, 0, 0, 0] = False                         # 3 masked tubelets: (0,1), (1,0), (1,1)
    objects = torch.zeros(1, 2, 32, 32, dtype=torch.bool)
    objects[0, :, :16, 16:24] = True                 # half of tubelet (0,1): object
    objects[0, 0, 16:20, 0:16] = True                # 1/8 of tubelet (1,0): background
    head = model.head
    target = head.get_target(imgs, mask)             # (1, 3, P)
    is_obj = head.object_tubelets(objects, mask)
    assert is_obj.tolist() == [[True, False, False]]
    pred = target + 0.5 * is_obj[..., None]
    sums = head.region_sums(pred, imgs, mask, objects)
    P = target.shape[-1]
    assert sums[0, 0].tolist() == pytest.approx([0.25 * P, 0.25 * P, P])
    assert sums[0, 1].tolist() == pytest.approx([0.0, 0.0, 2 * P])
    # through predict mode and the metric
    ds = ActionDataSample()
    ds.object_mask = objects[0]
    out = model._predict(pred, imgs, mask, 1, [ds])
    metric = METRICS.build(dict(type='ReconstructionMetric'))
    metric.process({}, out)
    res = metric.evaluate(1)
    assert res['rec/object_masked_mse'] == pytest.approx(0.25)
    assert res['rec/background_masked_mse'] == pytest.approx(0.0)
    assert res['rec/object_share'] == pytest.approx(1 / 3)
