# A tiny AV-MaskEnhancer for CPU runs on the demo data (8 frames at 64 x 64).
# Override img_size / num_frames / num_tokens together with the dataset's pipeline.
model = dict(
    type='AVMaskEnhancer',
    data_preprocessor=dict(
        type='AVDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375]),
    backbone=dict(
        type='MaskedVideoViT', img_size=64, num_frames=8, patch_size=16, tubelet_size=2,
        arch=dict(embed_dims=96, depth=2, num_heads=3)),
    audio_backbone=dict(type='TalkNetAudioEncoder', out_dim=96, num_tokens=8),
    fusion=dict(type='CrossAttentionFusion', num_heads=4, dropout=0.0),
    # 4 blocks as in the paper: with fusion at the visible tokens, the audio reaches the
    # mask tokens only through decoder attention (1 block learned it far more slowly)
    decoder=dict(type='VideoMAEDecoder', embed_dims=64, depth=4, num_heads=4),
    # raw [0, 1] pixels: on the demo data the sound sets the object's colour, which the
    # per-patch normalised target removes; and the pictures then show only predictions
    head=dict(type='PixelReconstructionHead', norm_pix=False),
    pretrained=None)
