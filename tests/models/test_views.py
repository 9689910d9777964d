"""The one view-flattening rule shared by every model (models/utils/views.py)."""
import pytest
import torch
from mmaction.registry import MODELS

import mmav_mask  # noqa: F401
from mmav_mask.models.recognizers.av_mask_enhancer import AVMaskEnhancer
from mmav_mask.models.recognizers.av_recognizer import AVRecognizer
from mmav_mask.models.utils.views import flatten_views, merge_views


def _imgs(n, v):
    # value = 10 * sample + view, so the order after flattening is readable
    base = torch.arange(n)[:, None] * 10 + torch.arange(v)[None]
    return base.float().view(n, v, 1, 1, 1, 1).expand(n, v, 3, 2, 4, 4).clone()


def test_views_of_a_sample_stay_adjacent_and_per_sample_values_repeat():
    imgs = _imgs(2, 3)
    audio = torch.arange(2).float().view(2, 1, 1).expand(2, 5, 4).clone()  # per sample
    mask = torch.zeros(2, 1, 2, 2, dtype=torch.bool)
    mask[1] = True
    flat = flatten_views(dict(imgs=imgs, audio=audio, audio_valid=torch.tensor([True, False]),
                              mask=mask))
    assert flat.num_views == 3 and flat.num_samples == 2
    assert flat.imgs[:, 0, 0, 0, 0].tolist() == [0, 1, 2, 10, 11, 12]
    assert flat.audio[:, 0, 0].tolist() == [0, 0, 0, 1, 1, 1]
    assert flat.audio_valid.tolist() == [True] * 3 + [False] * 3
    assert flat.masks['mask'].flatten(1).all(1).tolist() == [False] * 3 + [True] * 3
    # per-view valid flags (N, V) are taken as they are
    per_view = torch.tensor([[True, False, True], [False, False, True]])
    flat = flatten_views(dict(imgs=imgs, audio=torch.zeros(2, 3, 5, 4), audio_valid=per_view))
    assert flat.audio_valid.tolist() == per_view.flatten().tolist()


def test_audio_valid_defaults():
    imgs = _imgs(2, 2)
    # no audio: nothing to fuse, so every view is marked without audio
    assert flatten_views(dict(imgs=imgs)).audio_valid.tolist() == [False] * 4
    assert flatten_views(imgs).audio_valid.tolist() == [False] * 4  # ActionDataPreprocessor
    # audio without flags: every view has audio
    flat = flatten_views(dict(imgs=imgs, audio=torch.zeros(2, 2, 5, 4)))
    assert flat.audio_valid.tolist() == [True] * 4
    # audio only: the views come from the audio
    flat = flatten_views(dict(audio=torch.zeros(3, 2, 5, 4)))
    assert flat.imgs is None and flat.num_views == 2 and flat.audio.shape == (6, 5, 4)
    assert flat.audio_valid.tolist() == [True] * 6


def test_both_models_use_the_one_rule():
    """Before, AVMaskEnhancer gave audio_valid=None and AVRecognizer all-False
    for inputs without audio."""
    imgs, mask = _imgs(2, 2), torch.zeros(2, 1, 2, 2, dtype=torch.bool)
    _, _, _, valid_enh, _ = AVMaskEnhancer._flatten_views(dict(imgs=imgs, mask=mask))
    _, _, valid_rec, _ = AVRecognizer._flatten_views(dict(imgs=imgs))
    assert torch.equal(valid_enh, valid_rec) and valid_enh.tolist() == [False] * 4


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match='neither imgs nor audio'):
        flatten_views(dict(mask=torch.zeros(1, 1, 1, 1)))
    with pytest.raises(ValueError, match='audio has 3 samples, video 2'):
        flatten_views(dict(imgs=_imgs(2, 1), audio=torch.zeros(3, 5, 4)))
    with pytest.raises(ValueError, match='audio_valid has 3 entries'):
        flatten_views(dict(imgs=_imgs(2, 2), audio=torch.zeros(2, 5, 4),
                           audio_valid=torch.ones(3, dtype=torch.bool)))
    with pytest.raises(ValueError, match='per-view'):
        merge_views(torch.zeros(2), 2, sample_dims=3)
    with pytest.raises(KeyError, match='TubeMaskGenerator'):
        AVMaskEnhancer._flatten_views(dict(imgs=_imgs(1, 1)))
