# AudioSet-2M for MAViL pretraining (Huang et al., Sec. 4.1 and App. B "Data
# Preprocessing"): the union of the unbalanced and balanced training segment CSVs
# (YTID, start_seconds, end_seconds, "mid,mid"; '#' comment rows), videos cut to their
# 10 s segment and named {YTID}.mp4; labels are parsed (multi-label one-hot) but unused
# in pretraining. Audio: 16 kHz mono, 128 kaldi mel bins, 25 ms Hanning window, 10 ms
# shift, 10 s = 1024 rows, normalised with AudioSet's mean -4.268 / std 4.569 (Table 10).
# Video: 4 s = 8 frames at 2 fps, 224 x 224, random flip and multi-scale random crop
# (scale 0.2-1.0) in pretraining, none at test (App. B). Masks: random 80 % both (Sec. 3.1)
# and a disjoint second view per modality for the intra-modal contrast (Sec. 3.2).
# Our choices: frame_interval 15 is 2 fps for 30 fps files (use 12-13 for 25 fps files;
# MMAction2 samples by frame index); the 10 s audio window is centred on the 4 s of frames
# (LoadAlignedAudio(window=10.0), zero-padded beyond the file) where the paper feeds the
# whole 10 s recording: for 10 s segments set window='clip' to match it exactly.
dataset_type = 'AVCsvDataset'
data_root = 'data/audioset'
csv_args = dict(classes=f'{data_root}/class_mids.txt', filename_format='{0}.mp4',
                label_column=3, multi_class=True)
clip_len, frame_interval, img_size = 8, 15, 224
audio_seconds, audio_rows = 10.0, 1024
video_mask_ratio, audio_mask_ratio = 0.8, 0.8

_load = [
    dict(type='SafeDecordInit'),
    dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1),
    dict(type='LoadAlignedAudio', sample_rate=16000, window=audio_seconds),
    dict(type='DecordDecode'),
    dict(type='AudioFbank', num_rows=audio_rows, norm='fixed', mean=-4.268, std=4.569)]
_masks = [
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='RandomMaskGenerator', mask_ratio=video_mask_ratio, source_key='imgs',
         patch_size=(2, 16, 16), key='mask', second_view_key='mask_view2'),
    dict(type='AudioMaskGenerator', mask_ratio=audio_mask_ratio, mode='random',
         second_view_key='audio_mask_view2'),
    dict(type='PackAVInputs')]
train_pipeline = _load + [
    dict(type='RandomResizedCrop', area_range=(0.2, 1.0)),
    dict(type='Resize', scale=(img_size, img_size), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5)] + _masks
val_pipeline = [dict(s, test_mode=True) if s['type'] == 'SampleFrames' else s for s in _load] + [
    dict(type='Resize', scale=(-1, img_size)),
    dict(type='CenterCrop', crop_size=img_size)] + _masks
test_pipeline = val_pipeline

train_dataloader = dict(
    batch_size=8, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=f'{data_root}/train_2m_segments.csv',
                 **csv_args, data_prefix=dict(video=f'{data_root}/videos'),
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=8, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, ann_file=f'{data_root}/eval_segments.csv', **csv_args,
                 data_prefix=dict(video=f'{data_root}/videos'), pipeline=val_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='AVRetrievalMetric')
test_evaluator = val_evaluator
