# A tiny Audiovisual MAE (Georgescu et al., ICCV 2023) for CPU runs on the demo data:
# 8 x 64 x 64 clips (4 x 4 x 4 tubelets), 256 x 128 log-mel fbank (16 x 8 patches),
# two 96-d ViTs of depth 2, a 64-d decoder of depth 1. Variants override
# model.backbone.fusion ('separate' | 'shared' | 'early' | 'mid'), model.neck.fusion
# ('shared' | 'separate' | 'early') and model.objective ('joint' | 'inpaint_video' |
# 'inpaint_audio' | 'inpaint_both').
model = dict(
    type='AVMAE',
    data_preprocessor=dict(type='AVDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375]),
    backbone=dict(
        type='AVMAEEncoder',
        fusion='mid',            # paper's choice (Sec. 4.2, Table 1)
        num_joint_layers=1,      # paper: S = 2 of 12 layers; here 1 of 2
        video=dict(type='MaskedVideoViT', img_size=64, num_frames=8, patch_size=16,
                   tubelet_size=2, arch=dict(embed_dims=96, depth=2, num_heads=3)),
        audio=dict(type='SpectrogramViT', arch='tiny', input_size=(256, 128),
                   patch_size=16)),
    neck=dict(type='AVMAEDecoder', fusion='shared',   # paper's choice (Table 1)
              decoder=dict(type='VideoMAEDecoder', embed_dims=64, depth=1, num_heads=4)),
    video_head=dict(type='PixelReconstructionHead', norm_pix=True),
    audio_head=dict(type='SpectrogramReconstructionHead', norm_pix=False),
    objective='joint')
