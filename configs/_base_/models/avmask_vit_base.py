# AV-MaskEnhancer, ViT-B/16 encoder (paper): VideoMAE ViT-B, TalkNet audio encoder,
# TalkNet-style cross-attention fusion, VideoMAE decoder (384 wide, 4 blocks, 6 heads).
model = dict(
    type='AVMaskEnhancer',
    data_preprocessor=dict(
        type='AVDataPreprocessor',
        mean=[123.675, 116.28, 103.53],  # ImageNet statistics on the 0-255 scale
        std=[58.395, 57.12, 57.375]),
    backbone=dict(
        type='MaskedVideoViT', arch='base', img_size=224, num_frames=16, patch_size=16,
        tubelet_size=2, drop_path_rate=0.0, init_values=0.0, with_cp=False),
    # One 768-d audio token per sampled frame (16 frames -> 16 tokens).
    audio_backbone=dict(type='TalkNetAudioEncoder', out_dim=768, num_tokens=16),
    fusion=dict(type='CrossAttentionFusion', num_heads=8, dropout=0.1),
    decoder=dict(type='VideoMAEDecoder', embed_dims=384, depth=4, num_heads=6),
    # mean/std default to the data preprocessor's; geometry to the backbone's.
    head=dict(type='PixelReconstructionHead', norm_pix=True),
    # Path of an official VideoMAE pretraining checkpoint (e.g. Kinetics-400 ViT-B)
    # or of a file from tools/convert/videomae_to_mmav.py; None = random init.
    pretrained=None)
