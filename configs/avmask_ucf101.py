# AV-MaskEnhancer pretraining on UCF101 (paper setting): ViT-B/16, 16 frames x interval 4,
# 224 x 224, tube mask 0.9, decoder depth 4, ~1200 epochs, AdamW lr 1.5e-4 x batch/256.
# Train: tools/dist_train.sh configs/avmask_ucf101.py 8
# Start from Kinetics-400 VideoMAE: --cfg-options model.pretrained=PATH/TO/videomae_k400.pth
_base_ = [
    './_base_/models/avmask_vit_base.py',
    './_base_/datasets/ucf101_av.py',
    './_base_/schedules/avmask_pretrain_1200e.py',
]

custom_imports = dict(imports=['mmav_mask'], allow_failed_imports=False)

mask_ratio = 0.9
clip_len, frame_interval = 16, 4
num_audio_rows = 256  # MFCC rows per clip window (64 frames at 25 fps = 2.56 s x 100 rows/s)

model = dict(pretrained=None)  # official K400 VideoMAE checkpoint path, optional

# Pretraining pipelines: clip + aligned audio (MFCC) + tube mask. The val/test ones
# measure reconstruction (ReconstructionMetric) with deterministic crops.
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='LoadAlignedAudio', sample_rate=16000),
    dict(type='AudioMFCC', num_rows=num_audio_rows, norm='utterance'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.875, 0.75, 0.66),
         random_crop=False, max_wh_scale_gap=1),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='TubeMaskGenerator', mask_ratio=mask_ratio),
    dict(type='PackAVInputs'),
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1,
         test_mode=True),
    dict(type='DecordDecode'),
    dict(type='LoadAlignedAudio', sample_rate=16000),
    dict(type='AudioMFCC', num_rows=num_audio_rows, norm='utterance'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='TubeMaskGenerator', mask_ratio=mask_ratio),
    dict(type='PackAVInputs'),
]
test_pipeline = val_pipeline

train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

val_evaluator = dict(type='ReconstructionMetric')
test_evaluator = val_evaluator

# Runtime (MMAction2's default_runtime, stated here: 'mmaction::' bases need
# pkg_resources, which recent setuptools no longer ships).
default_scope = 'mmaction'
default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=50, save_best='rec/masked_mse',
                    rule='less', max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'))
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl' if __import__('torch').cuda.is_available() else 'gloo'))
log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
