# Audio-visual fine-tuning model (late fusion, as the authors' fine-tuning code):
# AVRecognizer classifies each view from the pretrained visual encoder (MaskedVideoViT
# ViT-B/16, no masking, mean pooling + fc_norm) and the pretrained TalkNet audio encoder
# (mean of its tokens + LayerNorm), concatenated into one linear head. Clips without an
# audio track get a zero audio vector. Mixup (alpha 0.8) mixes the audio with the same
# coefficient; no CutMix, since a pasted video box has no matching piece of audio.
num_classes = 101
model = dict(
    type='AVRecognizer',
    backbone=dict(type='MaskedVideoViT', img_size=224, num_frames=16, patch_size=16,
                  tubelet_size=2, arch=dict(embed_dims=768, depth=12, num_heads=12),
                  drop_path_rate=0.2),
    # TalkNet tokens are projected to the visual width in pretraining, one per frame
    audio_backbone=dict(type='TalkNetAudioEncoder', out_dim=768, num_tokens=16),
    cls_head=dict(type='TimeSformerHead', num_classes=num_classes, in_channels=768 + 768,
                  dropout_ratio=0.5, init_std=0.02, label_smooth_eps=0.1, average_clips='prob'),
    fusion='concat',
    fc_norm=True,
    pretrained=None,  # an AV-MaskEnhancer pretraining checkpoint
    data_preprocessor=dict(
        type='AVDataPreprocessor', mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375],
        blending=dict(type='MixupBlending', alpha=0.8, num_classes=num_classes),
        blend_audio=True))
