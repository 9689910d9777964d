# Audio-visual fine-tuning on the demo data (tools/data/make_demo_dataset.py),
# CPU, minutes: avmask_ucf101_finetune_av.py at the size of the tiny pretraining
# model (configs/_base_/models/avmask_vit_tiny.py: 8 frames at 64 x 64, ViT 96-d,
# depth 2; TalkNet tokens projected to 96-d).
#
#   python tools/train.py configs/avmask_demo_finetune_av.py \
#       --cfg-options model.pretrained=$(cat work_dirs/avmask_demo_tiny/last_checkpoint)
#   python tools/test.py configs/avmask_demo_finetune_av.py \
#       work_dirs/avmask_demo_finetune_av/epoch_30.pth
_base_ = ['./avmask_ucf101_finetune_av.py']

num_classes = 4
num_frames = 8
frame_interval = 4
img_size = 64
embed_dims, vit_depth, num_heads = 96, 2, 3
audio_dims = 96
num_audio_rows = 128  # 32-frame window at 25 fps = 1.28 s of MFCC at 100 rows/s
num_audio_tokens = 8
lr_decay_rate = 0.75
data_root = 'data/demo'

model = dict(
    backbone=dict(img_size=img_size, num_frames=num_frames,
                  arch=dict(embed_dims=embed_dims, depth=vit_depth, num_heads=num_heads),
                  drop_path_rate=0.1),
    audio_backbone=dict(out_dim=audio_dims, num_tokens=num_audio_tokens),
    cls_head=dict(num_classes=num_classes, in_channels=embed_dims + audio_dims,
                  dropout_ratio=0.0),
    pretrained=None,  # the demo pretraining checkpoint; see the command above
    data_preprocessor=dict(blending=dict(num_classes=num_classes)))

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=frame_interval,
         num_clips=1),
    dict(type='LoadAlignedAudio', sample_rate=16000),
    dict(type='DecordDecode'),
    dict(type='AudioMFCC', num_rows=num_audio_rows, norm='utterance'),
    dict(type='RandomResizedCrop', area_range=(0.5, 1.0), aspect_ratio_range=(0.75, 4 / 3)),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackAVInputs', mask_keys=()),
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=frame_interval,
         num_clips=1, test_mode=True),
    dict(type='LoadAlignedAudio', sample_rate=16000),
    dict(type='DecordDecode'),
    dict(type='AudioMFCC', num_rows=num_audio_rows, norm='utterance'),
    dict(type='Resize', scale=(-1, img_size)),
    dict(type='CenterCrop', crop_size=img_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackAVInputs', mask_keys=()),
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=frame_interval,
         num_clips=5, test_mode=True),
    dict(type='LoadAlignedAudio', sample_rate=16000),
    dict(type='DecordDecode'),
    dict(type='AudioMFCC', num_rows=num_audio_rows, norm='utterance'),
    dict(type='Resize', scale=(-1, img_size)),
    dict(type='ThreeCrop', crop_size=img_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackAVInputs', mask_keys=()),
]
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(ann_file=f'{data_root}/ucf101_train_split_1_videos.txt',
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
optim_wrapper = dict(
    optimizer=dict(lr=base_lr),
    paramwise_cfg=dict(custom_keys=dict(
        _delete_=True,
        **{'backbone.patch_embed.proj.weight': dict(lr_mult=lr_decay_rate**(vit_depth + 1)),
           'backbone.patch_embed.proj.bias': dict(lr_mult=lr_decay_rate**(vit_depth + 1),
                                                  decay_mult=0.0)},
        **{f'backbone.blocks.{i}.': dict(lr_mult=lr_decay_rate**(vit_depth - i))
           for i in range(vit_depth)},
        **{f'backbone.blocks.{i}.{name}': dict(lr_mult=lr_decay_rate**(vit_depth - i),
                                               decay_mult=0.0)
           for i in range(vit_depth)
           for name in ('norm1.', 'norm2.', 'attn.q_bias', 'attn.v_bias', 'attn.proj.bias',
                        'mlp.fc1.bias', 'mlp.fc2.bias')})))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min_ratio=0.01,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True)
]
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=1, save_best=None),
                     logger=dict(interval=4))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
