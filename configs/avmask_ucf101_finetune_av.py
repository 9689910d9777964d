# Audio-visual UCF101 fine-tuning: AVRecognizer classifies every view from the
# pretrained visual encoder (MaskedVideoViT, no masking, mean pooling + fc_norm)
# and the pretrained TalkNet audio encoder (mean of its tokens + LayerNorm),
# concatenated (late fusion, as the authors' fine-tuning code) into one linear
# head. Clips without an audio track (about half of UCF101) get a zero audio
# vector, so their score comes from the video alone.
#
# Recipe as avmask_ucf101_finetune_video.py (VideoMAE's UCF101 fine-tuning):
# 16 frames x interval 4, AdamW lr 5e-4 x batch/256, layer decay 0.7 on the ViT,
# drop path 0.2, head dropout 0.5, label smoothing 0.1, 5 clips x 3 crops at test.
# Mixup (alpha 0.8) mixes audio with the same coefficient; CutMix is left out
# because a pasted video box has no matching piece of audio.
#
# Train (init from the pretraining checkpoint, which our runner wrote and marked trusted):
#   tools/dist_train.sh configs/avmask_ucf101_finetune_av.py 8 \
#       --cfg-options model.pretrained=work_dirs/avmask_ucf101/epoch_1200.pth
# Test (acc/top1, acc/top5, acc/mean1 over 15 views per clip):
#   python tools/test.py configs/avmask_ucf101_finetune_av.py work_dirs/.../best_*.pth
_base_ = ['./_base_/default_runtime.py']

num_classes = 101
num_frames = 16
frame_interval = 4
img_size = 224
embed_dims, vit_depth, num_heads = 768, 12, 12
audio_dims = 768  # TalkNet tokens are projected to the visual width in pretraining
num_audio_rows = 256  # MFCC rows of a 64-frame window (2.56 s at 100 rows/s)
num_audio_tokens = 16
lr_decay_rate = 0.7

model = dict(
    type='AVRecognizer',
    backbone=dict(type='MaskedVideoViT', img_size=img_size, num_frames=num_frames,
                  patch_size=16, tubelet_size=2,
                  arch=dict(embed_dims=embed_dims, depth=vit_depth, num_heads=num_heads),
                  drop_path_rate=0.2),
    audio_backbone=dict(type='TalkNetAudioEncoder', out_dim=audio_dims,
                        num_tokens=num_audio_tokens),
    cls_head=dict(type='TimeSformerHead', num_classes=num_classes,
                  in_channels=embed_dims + audio_dims, dropout_ratio=0.5, init_std=0.02,
                  label_smooth_eps=0.1, average_clips='prob'),
    fusion='concat',
    fc_norm=True,
    pretrained='work_dirs/avmask_ucf101/epoch_1200.pth',
    data_preprocessor=dict(
        type='AVDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        blending=dict(type='MixupBlending', alpha=0.8, num_classes=num_classes),
        blend_audio=True))

dataset_type = 'AVVideoDataset'
data_root = 'data/ucf101/videos'
ann_file_train = 'data/ucf101/ucf101_train_split_1_videos.txt'
ann_file_val = 'data/ucf101/ucf101_val_split_1_videos.txt'
ann_file_test = 'data/ucf101/ucf101_val_split_1_videos.txt'
# 'track': the .avi's own audio; 'sidecar' reads wavs written by tools/data/ucf101.
audio_source = 'track'

train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=num_frames, frame_interval=frame_interval,
         num_clips=1),
    dict(type='LoadAlignedAudio', sample_rate=16000),
    dict(type='DecordDecode'),
    dict(type='AudioMFCC', num_rows=num_audio_rows, norm='utterance'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomResizedCrop', area_range=(0.08, 1.0), aspect_ratio_range=(0.75, 4 / 3)),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='TorchVisionWrapper', op='RandAugment', magnitude=7, num_ops=4),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand'),
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
    dict(type='DecordDecode'),
    # one audio window per temporal clip; PackAVInputs tiles it over the 3 crops
    dict(type='LoadAlignedAudio', sample_rate=16000),
    dict(type='AudioMFCC', num_rows=num_audio_rows, norm='utterance'),
    dict(type='Resize', scale=(-1, img_size)),
    dict(type='ThreeCrop', crop_size=img_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackAVInputs', mask_keys=()),
]

train_dataloader = dict(
    batch_size=16,  # 8 GPUs -> 128 clips, as VideoMAE's UCF101 script
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file_train,
                 data_prefix=dict(video=data_root), audio_source=audio_source,
                 missing_audio='zeros', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_val,
                 data_prefix=dict(video=data_root), audio_source=audio_source,
                 missing_audio='zeros', pipeline=val_pipeline, test_mode=True))
test_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_test,
                 data_prefix=dict(video=data_root), audio_source=audio_source,
                 missing_audio='zeros', pipeline=test_pipeline, test_mode=True))

val_evaluator = dict(type='AccMetric', metric_list=('top_k_accuracy', 'mean_class_accuracy'))
test_evaluator = val_evaluator

max_epochs = 100
warmup_epochs = 5
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1,
                 val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

base_lr = 5e-4 * 128 / 256
# Layer-wise lr decay on the ViT as VideoMAE (patch_embed: rate^(depth+1), block i:
# rate^(depth-i), everything else 1). MMAction2's LearningRateDecayOptimizerConstructor
# only accepts backbones named *VisionTransformer*, so the same scales are given as
# mmengine custom_keys; 1-D tensors (norms, biases, q/v biases) get no weight decay.
vit_no_decay = ('norm1.', 'norm2.', 'attn.q_bias', 'attn.v_bias', 'attn.proj.bias',
                'mlp.fc1.bias', 'mlp.fc2.bias')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=base_lr, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(
        norm_decay_mult=0.0, bias_decay_mult=0.0, flat_decay_mult=0.0,
        custom_keys={
            'backbone.patch_embed.proj.weight': dict(lr_mult=lr_decay_rate**(vit_depth + 1)),
            'backbone.patch_embed.proj.bias': dict(lr_mult=lr_decay_rate**(vit_depth + 1),
                                                   decay_mult=0.0),
            **{f'backbone.blocks.{i}.': dict(lr_mult=lr_decay_rate**(vit_depth - i))
               for i in range(vit_depth)},
            **{f'backbone.blocks.{i}.{name}': dict(lr_mult=lr_decay_rate**(vit_depth - i),
                                                   decay_mult=0.0)
               for i in range(vit_depth) for name in vit_no_decay},
        }))

param_scheduler = [
    dict(type='LinearLR', start_factor=1e-8 / 5e-4, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min_ratio=1e-5 / 5e-4,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True)
]
auto_scale_lr = dict(enable=False, base_batch_size=128)

default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=5, max_keep_ckpts=3, save_best='auto'))
