# Video-only UCF101 fine-tuning of the AV-MaskEnhancer visual encoder with
# MMAction2's own Recognizer3D + VisionTransformer, following VideoMAE's UCF101
# fine-tuning recipe (ViT-B/16, 16 frames x interval 4, 100 epochs, AdamW
# lr 5e-4 x batch/256, layer decay 0.7, drop path 0.2, head dropout 0.5,
# mixup 0.8 / cutmix 1.0, label smoothing 0.1, RandAugment m7 n4, random
# erasing 0.25, 2 repeated augmentations, 5 clips x 3 crops at test).
#
# 1. Convert the pretraining checkpoint (or an official VideoMAE one):
#    python tools/convert/to_mmaction_vit.py \
#        work_dirs/avmask_ucf101/epoch_1200.pth work_dirs/avmask_ucf101/vit-b_mmaction.pth
# 2. tools/dist_train.sh configs/avmask_ucf101_finetune_video.py 8 --cfg-options \
#        model.backbone.init_cfg.checkpoint=work_dirs/avmask_ucf101/vit-b_mmaction.pth
# 3. python tools/test.py configs/avmask_ucf101_finetune_video.py work_dirs/.../best_*.pth
#    -> acc/top1, acc/top5, acc/mean1 (5 clips x 3 crops, softmax averaged).
_base_ = ['./_base_/default_runtime.py']
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=5, max_keep_ckpts=3, save_best='auto'))

num_classes = 101
num_frames = 16
pretrained = 'work_dirs/avmask_ucf101/vit-b_mmaction.pth'

model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='VisionTransformer',
        img_size=224,
        patch_size=16,
        embed_dims=768,
        depth=12,
        num_heads=12,
        mlp_ratio=4,
        qkv_bias=True,
        num_frames=num_frames,
        norm_cfg=dict(type='LN', eps=1e-6),
        drop_path_rate=0.2,
        use_mean_pooling=True,  # mean of tokens -> fc_norm (VideoMAE fine-tuning)
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    cls_head=dict(
        type='TimeSformerHead',  # dropout + Linear on the pooled feature
        num_classes=num_classes,
        in_channels=768,
        dropout_ratio=0.5,
        init_std=0.02,
        label_smooth_eps=0.1,
        average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW',
        # timm Mixup of VideoMAE: mixup alpha 0.8 or cutmix alpha 1.0, 50/50.
        blending=dict(
            type='RandomBatchAugment',
            augments=[
                dict(type='MixupBlending', alpha=0.8, num_classes=num_classes),
                dict(type='CutmixBlending', alpha=1.0, num_classes=num_classes)
            ])))

dataset_type = 'VideoDataset'
data_root = 'data/ucf101/videos'
ann_file_train = 'data/ucf101/ucf101_train_split_1_videos.txt'
ann_file_val = 'data/ucf101/ucf101_val_split_1_videos.txt'
ann_file_test = 'data/ucf101/ucf101_val_split_1_videos.txt'

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=4, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomResizedCrop', area_range=(0.08, 1.0), aspect_ratio_range=(0.75, 4 / 3)),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    # Same RandAugment ops for every frame of the clip (torchvision on (T, C, H, W)).
    dict(type='TorchVisionWrapper', op='RandAugment', magnitude=7, num_ops=4),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand'),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=4, num_clips=1,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=4, num_clips=5,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='ThreeCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]

repeat_sample = 2  # VideoMAE --num_sample 2: two augmentations of one decode
train_dataloader = dict(
    batch_size=8,  # x 2 repeats = 16 clips per GPU; 8 GPUs -> 128 (VideoMAE's script)
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='repeat_pseudo_collate'),
    dataset=dict(
        type='RepeatAugDataset',
        num_repeats=repeat_sample,
        sample_once=True,
        ann_file=ann_file_train,
        data_prefix=dict(video=data_root),
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_val,
        data_prefix=dict(video=data_root),
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_test,
        data_prefix=dict(video=data_root),
        pipeline=test_pipeline,
        test_mode=True))

# top-1 / top-5 and mean class accuracy (MMAction2's AccMetric defaults).
val_evaluator = dict(type='AccMetric', metric_list=('top_k_accuracy', 'mean_class_accuracy'))
test_evaluator = val_evaluator

max_epochs = 100
warmup_epochs = 5
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1,
                 val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

# VideoMAE: lr 5e-4 per 256 clips, min_lr 1e-5 and warmup_lr 1e-8 scaled alike.
base_lr = 5e-4 * 128 / 256
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=base_lr, betas=(0.9, 0.999), weight_decay=0.05),
    # lr of layer i = base_lr * 0.7^(13 - i): head 1, blocks.11 0.7, ..., patch_embed 0.7^13;
    # 1-D parameters and biases without weight decay.
    constructor='LearningRateDecayOptimizerConstructor',
    paramwise_cfg=dict(decay_rate=0.7, decay_type='layer_wise', num_layers=12))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-8 / 5e-4, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min_ratio=1e-5 / 5e-4,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True)
]


# 8 GPUs x 8 videos x 2 repeats; `--auto-scale-lr` rescales base_lr for other sizes.
auto_scale_lr = dict(enable=False, base_batch_size=64)
