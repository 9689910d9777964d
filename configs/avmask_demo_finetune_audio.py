# Audio-only fine-tuning on the demo data, CPU, minutes (RecognizerAudio +
# TalkNet audio encoder). Audio windows as in the AV demo: 8 frames x interval 4.
#
#   python tools/convert/to_mmaction_vit.py --audio \
#       $(cat work_dirs/avmask_demo_tiny/last_checkpoint) work_dirs/avmask_demo_tiny/talknet_audio.pth
#   python tools/train.py configs/avmask_demo_finetune_audio.py \
#       --cfg-options load_from=work_dirs/avmask_demo_tiny/talknet_audio.pth
#   python tools/test.py configs/avmask_demo_finetune_audio.py \
#       work_dirs/avmask_demo_finetune_audio/epoch_30.pth
_base_ = ['./avmask_ucf101_finetune_audio.py']

num_classes = 4
num_frames = 8
frame_interval = 4
num_audio_rows = 128
data_root = 'data/demo'
load_from = None  # train from scratch unless the converted audio encoder is given

model = dict(cls_head=dict(num_classes=num_classes, dropout_ratio=0.0))


def audio_pipeline(num_clips, test_mode):
    return [
        dict(type='DecordInit'),
        dict(type='SampleFrames', clip_len=num_frames, frame_interval=frame_interval,
             num_clips=num_clips, test_mode=test_mode),
        dict(type='LoadAlignedAudio', sample_rate=16000),
        dict(type='AudioMFCC', num_rows=num_audio_rows, norm='utterance'),
        dict(type='KeyMapper', mapping={'audios': 'audio_feature'}, auto_remap=False,
             transforms=[]),
        dict(type='FormatAudioShape', input_format='NCTF'),
        dict(type='PackActionInputs'),
    ]


train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(ann_file=f'{data_root}/ucf101_train_split_1_videos.txt',
                 data_prefix=dict(video=f'{data_root}/videos'),
                 pipeline=audio_pipeline(1, False)))
val_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    dataset=dict(ann_file=f'{data_root}/ucf101_val_split_1_videos.txt',
                 data_prefix=dict(video=f'{data_root}/videos'),
                 pipeline=audio_pipeline(1, True)))
test_dataloader = dict(
    batch_size=1, num_workers=0, persistent_workers=False,
    dataset=dict(ann_file=f'{data_root}/ucf101_val_split_1_videos.txt',
                 data_prefix=dict(video=f'{data_root}/videos'),
                 pipeline=audio_pipeline(5, True)))
del audio_pipeline

max_epochs = 30
train_cfg = dict(max_epochs=max_epochs, val_interval=10)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=3,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 3, eta_min_ratio=0.01, by_epoch=True,
         begin=3, end=max_epochs, convert_to_iter_based=True)
]
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=1, save_best=None),
                     logger=dict(interval=4))
env_cfg = dict(dist_cfg=dict(backend='gloo'))
