# Fine-tuning model for the tiny Audiovisual MAE encoders (_base_/models/avmae_vit_tiny.py):
# AVRecognizer with the video ViT (mean pooling + fc_norm) and the spectrogram ViT (mean of
# its tokens + LayerNorm), late fusion by concatenation into one linear head. Video-only
# and audio-only fine-tuning set audio_backbone=None / backbone=None. Weights: an AVMAE
# checkpoint converted by tools/convert/avmae_to_recognizer.py (shared layers untied).
num_classes, embed_dims = 4, 96
model = dict(
    type='AVRecognizer',
    backbone=dict(type='MaskedVideoViT', img_size=64, num_frames=8, patch_size=16,
                  tubelet_size=2, arch=dict(embed_dims=embed_dims, depth=2, num_heads=3),
                  drop_path_rate=0.1),
    audio_backbone=dict(type='SpectrogramViT', arch='tiny', input_size=(256, 128),
                        drop_path_rate=0.1),
    cls_head=dict(type='TimeSformerHead', num_classes=num_classes,
                  in_channels=2 * embed_dims, dropout_ratio=0.0, init_std=0.02,
                  average_clips='prob'),
    fusion='concat',
    fc_norm=True,
    pretrained=None,
    data_preprocessor=dict(type='AVDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375]))
