# Fine-tuning model for ViT-B Audiovisual MAE encoders (_base_/models/avmae_vit_base.py):
# AVRecognizer with the video ViT (16 x 224 x 224, mean pooling + fc_norm) and the
# spectrogram ViT (8 s = 800 x 128; mean of its tokens + LayerNorm), late fusion by
# concatenation into one linear head; weights from tools/convert/avmae_to_recognizer.py
# (or the AVMAE checkpoint itself; shared layers untied, Sec. 4.1). Regularisers: the paper
# (Sec. 4.3, "Scaling up the backbone") follows the public MBT code's stochastic depth,
# mixup and label smoothing; the values are MBT's public AudioSet config's (drop layer 0.3,
# mixup alpha 0.5, label smoothing 0.3), since the paper's supplementary is not at hand.
# Mixup mixes the audio with the same coefficient (as MBT mixes both modalities).
num_classes, embed_dims = 309, 768   # VGGSound (Sec. 4.1 "Datasets")
model = dict(
    type='AVRecognizer',
    backbone=dict(type='MaskedVideoViT', arch='base', img_size=224, num_frames=16,
                  patch_size=16, tubelet_size=2, drop_path_rate=0.3),
    audio_backbone=dict(type='SpectrogramViT', arch='base', input_size=(800, 128),
                        drop_path_rate=0.3),
    cls_head=dict(type='TimeSformerHead', num_classes=num_classes, in_channels=2 * embed_dims,
                  dropout_ratio=0.0, init_std=0.02, label_smooth_eps=0.3,
                  average_clips='prob'),
    fusion='concat',
    fc_norm=True,
    pretrained=None,
    data_preprocessor=dict(
        type='AVDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
        blending=dict(type='MixupBlending', alpha=0.5, num_classes=num_classes),
        blend_audio=True))
