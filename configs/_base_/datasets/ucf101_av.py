# UCF101 split 1 with audio (tools/data/ucf101/README: lists + optional 16 kHz wav).
# Clips are 16 frames at interval 4; each clip's audio window is the span of its
# sampled frames, as MFCC (TalkNet setting) resized to 256 rows (2.56 s at 25 fps).
dataset_type = 'AVVideoDataset'
data_root = 'data/ucf101'
split = 1
ann_file_train = f'{data_root}/ucf101_train_split_{split}_videos.txt'
ann_file_val = f'{data_root}/ucf101_val_split_{split}_videos.txt'
# 'track' reads each video's own audio; after tools/data/ucf101/extract_audio.py use
# audio_source='sidecar' with data_prefix audio=f'{data_root}/audio' (faster).
audio_source = 'track'
# About half of UCF101 has no audio track: zero features + audio_valid=False.
missing_audio = 'zeros'

clip_len, frame_interval = 16, 4
img_size = 224
num_audio_rows = 256
mask_ratio = 0.9  # ablations: avmask_ucf101_mask0.75.py / _mask0.95.py

train_pipeline = [
    dict(type='SafeDecordInit'),  # opens by path after a crash-isolated check
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1),
    dict(type='LoadAlignedAudio', sample_rate=16000),  # before decoding: container timestamps
    dict(type='DecordDecode'),
    dict(type='AudioMFCC', num_rows=num_audio_rows, norm='utterance'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='MultiScaleCrop', input_size=img_size, scales=(1, 0.875, 0.75, 0.66),
         random_crop=False, max_wh_scale_gap=1),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='TubeMaskGenerator', mask_ratio=mask_ratio),
    dict(type='PackAVInputs'),
]
val_pipeline = [
    dict(type='SafeDecordInit'),  # opens by path after a crash-isolated check
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1,
         test_mode=True),
    dict(type='LoadAlignedAudio', sample_rate=16000),
    dict(type='DecordDecode'),
    dict(type='AudioMFCC', num_rows=num_audio_rows, norm='utterance'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=img_size),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='TubeMaskGenerator', mask_ratio=mask_ratio),
    dict(type='PackAVInputs'),
]
test_pipeline = val_pipeline

train_dataloader = dict(
    batch_size=8, num_workers=8, persistent_workers=True,
    sampler=dict(type='KeyedSampler', shuffle=True),  # masks keyed on (seed, epoch, index)
    dataset=dict(type=dataset_type, ann_file=ann_file_train,
                 data_prefix=dict(video=f'{data_root}/videos'), audio_source=audio_source,
                 missing_audio=missing_audio, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=8, persistent_workers=True,
    sampler=dict(type='KeyedSampler', shuffle=False),  # same masks every round, any #procs
    dataset=dict(type=dataset_type, ann_file=ann_file_val,
                 data_prefix=dict(video=f'{data_root}/videos'), audio_source=audio_source,
                 missing_audio=missing_audio, pipeline=val_pipeline, test_mode=True))
test_dataloader = val_dataloader  # split 1's test list is its validation list

val_evaluator = dict(type='ReconstructionMetric')
test_evaluator = val_evaluator
