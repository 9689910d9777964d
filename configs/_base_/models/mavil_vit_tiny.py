# A tiny MAViL (Huang et al.) for CPU runs on the demo data: the 96-d depth-2 video and
# spectrogram ViTs of _base_/models/avmae_vit_tiny.py (so avmae_demo_finetune_*.py fine-tune
# its encoders), a 2-layer fusion encoder (paper: L = 2, Sec. 4.2), separate 64-d depth-1
# decoders (paper: 512-d, 8 layers, 16 heads). Losses as in the paper (Eq. 4, Sec. 4.2):
# raw-target MSE + 0.1 x InfoNCE(tau 0.1) inter-modal + 0.01 x InfoNCE(tau 1.0) intra-modal,
# one-directional as Eq. 2. Stage 2 sets target='fusion' (or 'unimodal') and a teacher.
model = dict(
    type='MAViL',
    data_preprocessor=dict(type='AVDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375]),
    backbone=dict(
        type='MAViLEncoder',
        video=dict(type='MaskedVideoViT', img_size=64, num_frames=8, patch_size=16,
                   tubelet_size=2, arch=dict(embed_dims=96, depth=2, num_heads=3)),
        audio=dict(type='SpectrogramViT', arch='tiny', input_size=(256, 128), patch_size=16),
        fusion=dict(type='MAViLFusionEncoder', mode='vanilla', num_layers=2,
                    num_bottleneck_tokens=4)),
    neck=dict(type='AVMAEDecoder', fusion='separate',
              decoder=dict(type='VideoMAEDecoder', embed_dims=64, depth=1, num_heads=4)),
    video_head=dict(type='PixelReconstructionHead', norm_pix=False),
    audio_head=dict(type='SpectrogramReconstructionHead', norm_pix=False),
    inter_loss=dict(type='InfoNCELoss', temperature=0.1, loss_weight=0.1, symmetric=False),
    intra_loss=dict(type='InfoNCELoss', temperature=1.0, loss_weight=0.01, symmetric=False),
    target='raw')   # stage 2: target='fusion' | 'unimodal' and teacher=dict(checkpoint=...)
