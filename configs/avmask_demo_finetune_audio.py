# Audio-only fine-tuning on the demo data (CPU, minutes): avmask_ucf101_finetune_audio.py
# (RecognizerAudio + TalkNet) on the demo clips' audio windows (8 frames x interval 4).
#   python tools/convert/to_mmaction_vit.py --audio \
#       $(cat work_dirs/avmask_demo_tiny/last_checkpoint) \
#       work_dirs/avmask_demo_tiny/talknet_audio.pth
#   python tools/train.py configs/avmask_demo_finetune_audio.py \
#       --cfg-options load_from=work_dirs/avmask_demo_tiny/talknet_audio.pth
#   python tools/test.py configs/avmask_demo_finetune_audio.py \
#       work_dirs/avmask_demo_finetune_audio/epoch_30.pth
_base_ = ['./_base_/models/talknet_recognizer_audio.py', './_base_/datasets/demo_av_finetune.py',
          './_base_/schedules/demo_finetune_30e.py', './_base_/default_runtime.py']

num_classes = 4
model = dict(cls_head=dict(num_classes=num_classes, dropout_ratio=0.0))
# the clips' audio steps of the AV pipelines (no frame is decoded), shaped for RecognizerAudio
__audio = ('DecordInit', 'SafeDecordInit', 'SampleFrames', 'LoadAlignedAudio', 'AudioMFCC')
train_pipeline, val_pipeline, test_pipeline = (
    [s for s in _base_[f'{split}_pipeline'] if s.type in __audio] + [
        dict(type='KeyMapper', mapping={'audios': 'audio_feature'}, auto_remap=False,
             transforms=[]),
        dict(type='FormatAudioShape', input_format='NCTF'), dict(type='PackActionInputs')]
    for split in ('train', 'val', 'test'))
# as on UCF101: train on the clips with audio only
train_dataloader = dict(dataset=dict(missing_audio='skip', pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
optim_wrapper = dict(constructor='DefaultOptimWrapperConstructor',
                     paramwise_cfg=dict(_delete_=True, norm_decay_mult=0.0, bias_decay_mult=0.0))
default_hooks = dict(logger=dict(interval=4),
                     checkpoint=dict(interval=10, max_keep_ckpts=1, save_best=None))
