# Ablation (paper Table I): tube mask ratio 0.95 instead of 0.9.
_base_ = ['./avmask_ucf101.py']

mask_ratio = 0.95
clip_len, frame_interval, num_audio_rows = 16, 4, 256

# mmengine replaces lists wholesale, so the pipelines are restated with the new ratio.
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1),
    dict(type='LoadAlignedAudio', sample_rate=16000),
    dict(type='DecordDecode'),
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
    dict(type='LoadAlignedAudio', sample_rate=16000),
    dict(type='DecordDecode'),
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
