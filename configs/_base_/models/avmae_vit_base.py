# Audiovisual MAE with ViT-Base encoders at the paper's input sizes (Georgescu et al.,
# ICCV 2023): video 16 x 224 x 224 in 2 x 16 x 16 tubelets (1568 tokens), audio 128 mel
# bins x 800 rows = 8 s in 16 x 16 patches (400 tokens) (Sec. 4.1); mid-fusion encoder
# with S = 2 joint layers and a shared decoder (Sec. 4.1 "Network architecture", Sec. 4.2
# after Table 1); joint reconstruction with equal weights (Sec. 3.4, 4.2 after Table 2).
# Decoder width/depth are not in the paper's main text: VideoMAE's ViT-B decoder (384-d,
# 4 blocks) is our choice.
model = dict(
    type='AVMAE',
    data_preprocessor=dict(type='AVDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375]),
    backbone=dict(
        type='AVMAEEncoder', fusion='mid', num_joint_layers=2,
        video=dict(type='MaskedVideoViT', arch='base', img_size=224, num_frames=16,
                   patch_size=16, tubelet_size=2),
        audio=dict(type='SpectrogramViT', arch='base', input_size=(800, 128), patch_size=16)),
    neck=dict(type='AVMAEDecoder', fusion='shared',
              decoder=dict(type='VideoMAEDecoder', embed_dims=384, depth=4, num_heads=6)),
    video_head=dict(type='PixelReconstructionHead', norm_pix=True),
    audio_head=dict(type='SpectrogramReconstructionHead', norm_pix=False),
    objective='joint')
