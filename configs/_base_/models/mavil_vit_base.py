# MAViL with ViT-Base encoders at the paper's input sizes (Huang et al.; Sec. 4.2 and
# App. B "Implementation"): separate 12-layer 768-d 12-head ViTs per modality with their
# own patch embeddings; video 8 x 224 x 224 in 2 x 16 x 16 cells (4 x 14 x 14 = 784 tokens),
# audio 1024 x 128 fbank in 16 x 16 patches (64 x 8 = 512 tokens); fixed sin-cos positions
# (Sec. 3.1); a 2-layer fusion encoder, vanilla by default (Sec. 4.4 after Table 2; 'mbt'
# with 4 bottleneck tokens is the other variant, App. B); separate audio and video decoders,
# 8 layers, 512-d, 16 heads (Sec. 4.2); raw targets in stage 1 (Eq. 1); alpha = 0.1,
# tau_inter = 0.1, beta = 0.01, tau_intra = 1.0 (Sec. 4.2), InfoNCE one-directional (Eq. 2).
# Not taken from the paper: no [CLS] token (App. B appends one; the losses use mean
# pooling, so it is unused here), the video decoder's 1-D sinusoid table (VideoMAE's) where
# the paper says 2-D, the video ViT initialised from scratch where the paper starts from
# an ImageNet MAE (set model.backbone.video.pretrained=... for an MAE/VideoMAE file).
model = dict(
    type='MAViL',
    data_preprocessor=dict(type='AVDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375]),
    backbone=dict(
        type='MAViLEncoder',
        video=dict(type='MaskedVideoViT', arch='base', img_size=224, num_frames=8,
                   patch_size=16, tubelet_size=2),
        audio=dict(type='SpectrogramViT', arch='base', input_size=(1024, 128), patch_size=16),
        fusion=dict(type='MAViLFusionEncoder', mode='vanilla', num_layers=2,
                    num_bottleneck_tokens=4)),
    neck=dict(type='AVMAEDecoder', fusion='separate',
              decoder=dict(type='VideoMAEDecoder', embed_dims=512, depth=8, num_heads=16)),
    video_head=dict(type='PixelReconstructionHead', norm_pix=False),
    audio_head=dict(type='SpectrogramReconstructionHead', norm_pix=False),
    inter_loss=dict(type='InfoNCELoss', temperature=0.1, loss_weight=0.1, symmetric=False),
    intra_loss=dict(type='InfoNCELoss', temperature=1.0, loss_weight=0.01, symmetric=False),
    target='raw')   # stage 2: target='fusion' | 'unimodal' and teacher=dict(checkpoint=...)
