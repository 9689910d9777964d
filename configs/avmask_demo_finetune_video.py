# Video-only fine-tuning on the demo data (tools/data/make_demo_dataset.py), CPU,
# minutes: the UCF101 recipe of avmask_ucf101_finetune_video.py (MMAction2's
# Recognizer3D + VisionTransformer, layer decay, drop path, mixup/cutmix, label
# smoothing, 5 clips x 3 crops at test) at the size of the demo pretraining.
#
#   python tools/convert/to_mmaction_vit.py work_dirs/avmask_demo_tiny/epoch_N.pth \
#       work_dirs/avmask_demo_tiny/vit_mmaction.pth --num-frames 8 --img-size 64
#   python tools/train.py configs/avmask_demo_finetune_video.py
#   python tools/test.py configs/avmask_demo_finetune_video.py \
#       work_dirs/avmask_demo_finetune_video/epoch_30.pth
_base_ = ['./avmask_ucf101_finetune_video.py']

num_classes = 4
num_frames = 8
img_size = 64
embed_dims, depth, num_heads = 96, 2, 3  # = configs/_base_/models/avmask_vit_tiny.py
data_root = 'data/demo'
pretrained = 'work_dirs/avmask_demo_tiny/vit_mmaction.pth'

model = dict(
    backbone=dict(img_size=img_size, embed_dims=embed_dims, depth=depth, num_heads=num_heads,
                  num_frames=num_frames, drop_path_rate=0.1,
                  init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    cls_head=dict(num_classes=num_classes, in_channels=embed_dims, dropout_ratio=0.0),
    data_preprocessor=dict(blending=dict(augments=[
        dict(type='MixupBlending', alpha=0.8, num_classes=num_classes),
        dict(type='CutmixBlending', alpha=1.0, num_classes=num_classes)
    ])))

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=4, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='RandomResizedCrop', area_range=(0.5, 1.0), aspect_ratio_range=(0.75, 4 / 3)),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=4, num_clips=1,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, img_size)),
    dict(type='CenterCrop', crop_size=img_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=4, num_clips=5,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, img_size)),
    dict(type='ThreeCrop', crop_size=img_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs')
]

train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(num_repeats=1, ann_file=f'{data_root}/ucf101_train_split_1_videos.txt',
                 data_prefix=dict(video=f'{data_root}/videos'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(ann_file=f'{data_root}/ucf101_val_split_1_videos.txt',
                 data_prefix=dict(video=f'{data_root}/videos'), pipeline=val_pipeline))
test_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    dataset=dict(ann_file=f'{data_root}/ucf101_val_split_1_videos.txt',
                 data_prefix=dict(video=f'{data_root}/videos'), pipeline=test_pipeline))

max_epochs = 30
warmup_epochs = 3
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
base_lr = 1e-3
optim_wrapper = dict(optimizer=dict(lr=base_lr),
                     paramwise_cfg=dict(decay_rate=0.75, num_layers=depth))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min_ratio=0.01,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True)
]
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=1, save_best=None),
                     logger=dict(interval=4))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
