# VGGSound for Audiovisual MAE pretraining (Georgescu et al., Sec. 4.1): 10 s YouTube clips,
# 309 classes, ~170k train / 14.4k test available. Lists are the dataset's CSV
# (ytid,start_seconds,label,split) split into train/test files; videos cut to their
# 10 s segment and named {ytid}_{start:06d}.mp4; classes.txt has one class name a line.
# Audio: 16 kHz mono, 128-bin log-mel, 10 ms hop, 8 s per clip = 800 rows (Sec. 4.1), here
# centred on the sampled frames and zero-padded at the file's ends. Video: 16 frames
# (Sec. 4.1; interval 4 and the crops as VideoMAE, our choice). Masks: random, 0.9 video,
# 0.5 audio (Sec. 4.1); the fbank's 25 ms Hamming window (Sec. 4.1). Our choice: the
# (x - mean) / std statistics are CAV-MAE's AudioSet values.
dataset_type = 'AVCsvDataset'
data_root = 'data/vggsound'
csv_args = dict(classes=f'{data_root}/classes.txt', filename_format='{0}_{1:0>6}.mp4',
                label_column=2)
clip_len, frame_interval, img_size = 16, 4, 224
audio_seconds, audio_rows = 8.0, 800
video_mask_ratio, audio_mask_ratio = 0.9, 0.5

_load = [
    dict(type='SafeDecordInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1),
    dict(type='LoadAlignedAudio', sample_rate=16000, window=audio_seconds),
    dict(type='DecordDecode'),
    dict(type='AudioFbank', num_rows=audio_rows, window_type='hamming', norm='fixed',
         mean=-5.081, std=8.9698)]
_masks = [
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='RandomMaskGenerator', mask_ratio=video_mask_ratio, source_key='imgs',
         patch_size=(2, 16, 16), key='mask'),
    dict(type='AudioMaskGenerator', mask_ratio=audio_mask_ratio, mode='random'),
    dict(type='PackAVInputs')]
train_pipeline = _load + [
    dict(type='Resize', scale=(-1, 256)),
    dict(type='MultiScaleCrop', input_size=img_size, scales=(1, 0.875, 0.75, 0.66),
         random_crop=False, max_wh_scale_gap=1),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5)] + _masks
val_pipeline = [dict(s, test_mode=True) if s['type'] == 'SampleFrames' else s for s in _load] + [
    dict(type='Resize', scale=(-1, img_size)),
    dict(type='CenterCrop', crop_size=img_size)] + _masks
test_pipeline = val_pipeline

train_dataloader = dict(
    batch_size=8, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=f'{data_root}/vggsound_train.csv', **csv_args,
                 data_prefix=dict(video=f'{data_root}/videos'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=f'{data_root}/vggsound_test.csv', **csv_args,
                 data_prefix=dict(video=f'{data_root}/videos'), pipeline=val_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='AVReconstructionMetric')
test_evaluator = val_evaluator
