# Video-only fine-tuning model: MMAction2's Recognizer3D + VisionTransformer (VideoMAE
# ViT-B/16; mean of the tokens -> fc_norm) + TimeSformerHead (dropout + Linear), with timm's
# Mixup of VideoMAE (mixup alpha 0.8 or cutmix alpha 1.0, 50/50). The weights are a
# pretraining checkpoint converted with tools/convert/to_mmaction_vit.py.
num_classes = 101
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='VisionTransformer', img_size=224, patch_size=16, embed_dims=768, depth=12,
        num_heads=12, mlp_ratio=4, qkv_bias=True, num_frames=16,
        norm_cfg=dict(type='LN', eps=1e-6), drop_path_rate=0.2, use_mean_pooling=True,
        init_cfg=dict(type='Pretrained', checkpoint='work_dirs/avmask_ucf101/vit-b_mmaction.pth',
                      prefix='backbone.')),
    cls_head=dict(type='TimeSformerHead', num_classes=num_classes, in_channels=768,
                  dropout_ratio=0.5, init_std=0.02, label_smooth_eps=0.1, average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375], format_shape='NCTHW',
        blending=dict(type='RandomBatchAugment', augments=[
            dict(type='MixupBlending', alpha=0.8, num_classes=num_classes),
            dict(type='CutmixBlending', alpha=1.0, num_classes=num_classes)])))
