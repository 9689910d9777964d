# The embedded demo data (python tools/data/make_demo_dataset.py --out data/demo):
# 64 x 64 mp4 clips at 25 fps with AAC audio in UCF101's layout. Clips of 8 frames at
# interval 4 (1.28 s), MFCC resized to 128 rows, tube mask 0.9.
dataset_type = 'AVVideoDataset'
data_root = 'data/demo'
ann_file_train = f'{data_root}/ucf101_train_split_1_videos.txt'
ann_file_val = f'{data_root}/ucf101_val_split_1_videos.txt'

clip_len, frame_interval = 8, 4
img_size = 64
num_audio_rows = 128
mask_ratio = 0.9

train_pipeline = [
    dict(type='SafeDecordInit'),  # opens by path after a crash-isolated check
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1),
    dict(type='LoadAlignedAudio', sample_rate=16000),
    dict(type='DecordDecode'),
    dict(type='AudioMFCC', num_rows=num_audio_rows, norm='utterance'),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
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
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='LoadObjectMask', missing='skip'),  # object / background metrics
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='TubeMaskGenerator', mask_ratio=mask_ratio),
    dict(type='PackAVInputs'),
]
test_pipeline = val_pipeline

train_dataloader = dict(
    batch_size=4, num_workers=2, persistent_workers=True,
    sampler=dict(type='KeyedSampler', shuffle=True),  # masks keyed on (seed, epoch, index)
    dataset=dict(type=dataset_type, ann_file=ann_file_train,
                 data_prefix=dict(video=f'{data_root}/videos'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=2, persistent_workers=True,
    sampler=dict(type='KeyedSampler', shuffle=False),  # same masks every round, any #procs
    dataset=dict(type=dataset_type, ann_file=ann_file_val,
                 data_prefix=dict(video=f'{data_root}/videos'), pipeline=val_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='ReconstructionMetric')
test_evaluator = val_evaluator
