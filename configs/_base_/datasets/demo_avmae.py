# The demo data for Audiovisual MAE pretraining: 8 frames at interval 4 (1.28 s) at
# 64 x 64, and 2.56 s of audio centred on them (zero-padded at the file's ends) as a
# 128-bin kaldi fbank fixed at 256 rows (100 rows/s), normalised with CAV-MAE's AudioSet
# statistics. Masks: random 0.9 over the video tubelets, random 0.5 over the 16 x 16
# spectrogram patches (the paper's ratios, Sec. 4.1).
dataset_type = 'AVVideoDataset'
data_root = 'data/demo'
ann_file_train = f'{data_root}/ucf101_train_split_1_videos.txt'
ann_file_val = f'{data_root}/ucf101_val_split_1_videos.txt'

clip_len, frame_interval, img_size = 8, 4, 64
audio_seconds, audio_rows = 2.56, 256
video_mask_ratio, audio_mask_ratio = 0.9, 0.5
audio_mask_mode = 'random'   # or 'time' | 'frequency' | 'time_frequency'


_audio = [
    dict(type='LoadAlignedAudio', sample_rate=16000, window=audio_seconds),
    dict(type='DecordDecode'),
    dict(type='AudioFbank', num_rows=audio_rows, norm='fixed', mean=-5.081, std=8.9698),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False)]
_masks = [
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='RandomMaskGenerator', mask_ratio=video_mask_ratio, source_key='imgs',
         patch_size=(2, 16, 16), key='mask'),
    dict(type='AudioMaskGenerator', mask_ratio=audio_mask_ratio, mode=audio_mask_mode),
    dict(type='PackAVInputs')]
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1),
    *_audio, dict(type='Flip', flip_ratio=0.5), *_masks]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1,
         test_mode=True),
    *_audio, *_masks]
test_pipeline = val_pipeline

train_dataloader = dict(
    batch_size=4, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file_train,
                 data_prefix=dict(video=f'{data_root}/videos'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=ann_file_val,
                 data_prefix=dict(video=f'{data_root}/videos'), pipeline=val_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader

val_evaluator = dict(type='AVReconstructionMetric')
test_evaluator = val_evaluator
