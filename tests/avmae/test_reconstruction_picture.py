"""tools/analysis/avmae_reconstruction_picture.py: visible parts are the input,
masked parts the model's prediction, for video and spectrogram."""

import numpy as np
import torch
from mmaction.registry import MODELS
from mmengine.registry import init_default_scope
from cli_utils import load_tool

tool = load_tool('tools/analysis/avmae_reconstruction_picture.py', 'avmae_picture')


def test_reconstruction_arrays_and_png(tmp_path):
    init_default_scope('mmaction')
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='AVMAE', data_preprocessor=dict(type='AVDataPreprocessor'),
        backbone=dict(type='AVMAEEncoder', fusion='early',
                      video=dict(type='MaskedVideoViT', img_size=32, num_frames=4,
                                 arch=dict(embed_dims=32, depth=1, num_heads=2)),
                      audio=dict(type='SpectrogramViT', input_size=(64, 32),
                                 arch=dict(embed_dims=32, depth=1, num_heads=2))),
        neck=dict(type='AVMAEDecoder',
                  decoder=dict(type='VideoMAEDecoder', embed_dims=16, depth=1, num_heads=2)))
    ).eval()
    g = torch.Generator().manual_seed(0)
    mask = torch.zeros(2, 2, 2, 2, dtype=torch.bool)
    mask[:, :, 0] = True
    amask = torch.zeros(2, 4, 2, dtype=torch.bool)
    amask[:, 1:3] = True
    batch = dict(inputs=[dict(imgs=torch.randint(0, 256, (1, 3, 4, 32, 32), generator=g,
                                                 dtype=torch.uint8),
                              audio=torch.randn(1, 64, 32, generator=g), mask=mask[i],
                              audio_mask=amask[i], audio_valid=torch.tensor(True))
                         for i in range(2)], data_samples=None)
    res = tool.reconstruct(model, batch)
    assert res['video_rec'].shape == (2, 4, 32, 32, 3) and res['spec_rec'].shape == (2, 64, 32)
    # visible: the input itself; masked: not the input (the prediction)
    vis = ~np.repeat(np.repeat(np.repeat(mask.numpy(), 2, 1), 16, 2), 16, 3)
    np.testing.assert_allclose(res['video_rec'][vis], res['video'][vis], atol=1e-5)
    assert np.abs(res['video_rec'][~vis] - res['video'][~vis]).mean() > 1e-3
    avis = ~np.repeat(np.repeat(amask.numpy(), 16, 1), 16, 2)
    np.testing.assert_allclose(res['spec_rec'][avis], res['spec'][avis], atol=1e-5)
    assert np.abs(res['spec_rec'][~avis] - res['spec'][~avis]).mean() > 1e-3
    # masked patch k (raster order) shows prediction k, its 16 x 16 values row-major
    data = model.data_preprocessor(batch, False)['inputs']
    with torch.no_grad():
        pred = model(data, mode='tensor')['audio'].numpy()
    for i in range(2):
        cells = [(t, f) for t in range(4) for f in range(2) if amask[i, t, f]]
        for k, (t, f) in enumerate(cells):
            np.testing.assert_allclose(res['spec_rec'][i, 16 * t:16 * t + 16, 16 * f:16 * f + 16],
                                       pred[i, k].reshape(16, 16), atol=1e-5)
    tool.draw(res, str(tmp_path / 'p.png'), num_frames=2)
    assert (tmp_path / 'p.png').stat().st_size > 1000
