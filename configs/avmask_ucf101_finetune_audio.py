# Audio-only UCF101 fine-tuning with MMAction2's own RecognizerAudio and the
# pretrained TalkNet audio encoder (out_type='feature_map' -> TSNAudioHead).
# The audio windows are the ones the AV models see: 16 frames x interval 4 of
# the video (2.56 s), MFCC from the clip's own track.
#
# UCF101: only about half of the clips have audio. Training skips silent clips
# (missing_audio='skip', logged count); the test keeps the full split with zero
# features for silent clips ('zeros'), so its accuracy is over all test clips
# and comparable with the video and AV rows (silent clips score near chance).
# No published recipe exists for this row; the schedule below is ours.
#
#   python tools/convert/to_mmaction_vit.py --audio \
#       work_dirs/avmask_ucf101/epoch_1200.pth work_dirs/avmask_ucf101/talknet_audio.pth
#   tools/dist_train.sh configs/avmask_ucf101_finetune_audio.py 8
#   python tools/test.py configs/avmask_ucf101_finetune_audio.py work_dirs/.../best_*.pth
_base_ = ['./_base_/default_runtime.py']

num_classes = 101
num_frames = 16
frame_interval = 4
num_audio_rows = 256

model = dict(
    type='RecognizerAudio',
    backbone=dict(type='TalkNetAudioEncoder', out_type='feature_map'),
    cls_head=dict(type='TSNAudioHead', num_classes=num_classes, in_channels=128,
                  dropout_ratio=0.5, init_std=0.01, label_smooth_eps=0.1,
                  average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCHW'))
# audio_backbone.* of the pretraining checkpoint written as backbone.* (see above)
load_from = 'work_dirs/avmask_ucf101/talknet_audio.pth'

dataset_type = 'AVVideoDataset'
data_root = 'data/ucf101/videos'
ann_file_train = 'data/ucf101/ucf101_train_split_1_videos.txt'
ann_file_val = 'data/ucf101/ucf101_val_split_1_videos.txt'
ann_file_test = 'data/ucf101/ucf101_val_split_1_videos.txt'
audio_source = 'track'


def audio_pipeline(num_clips, test_mode):
    """Frame sampling fixes the audio windows; no frame is decoded."""
    return [
        dict(type='DecordInit'),
        dict(type='SampleFrames', clip_len=num_frames, frame_interval=frame_interval,
             num_clips=num_clips, test_mode=test_mode),
        dict(type='LoadAlignedAudio', sample_rate=16000),
        dict(type='AudioMFCC', num_rows=num_audio_rows, norm='utterance'),
        # MMAction2's audio transforms read 'audios': (clips, L, F) -> (clips, 1, L, F)
        dict(type='KeyMapper', mapping={'audios': 'audio_feature'}, auto_remap=False,
             transforms=[]),
        dict(type='FormatAudioShape', input_format='NCTF'),
        dict(type='PackActionInputs'),
    ]


train_pipeline = audio_pipeline(1, False)
val_pipeline = audio_pipeline(1, True)
test_pipeline = audio_pipeline(5, True)
del audio_pipeline  # configs keep plain data only

train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file_train,
                 data_prefix=dict(video=data_root), audio_source=audio_source,
                 missing_audio='skip', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
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

max_epochs = 50
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1,
                 val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=5,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 5, eta_min_ratio=0.01, by_epoch=True,
         begin=5, end=max_epochs, convert_to_iter_based=True)
]
auto_scale_lr = dict(enable=False, base_batch_size=256)

default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(interval=5, max_keep_ckpts=3, save_best='auto'))
