# Audio-only UCF101 fine-tuning: MMAction2's RecognizerAudio + the pretrained TalkNet encoder
# on the audio windows the AV models see (16 x 4 frames, 2.56 s of MFCC). Only about half of
# UCF101 has audio: training skips silent clips (logged count); validation and test keep the
# full split with zero features, so accuracy is over all clips, comparable with the video and
# AV rows (silent clips score near chance). No published recipe exists; the schedule is ours.
#   python tools/convert/to_mmaction_vit.py --audio \
#       work_dirs/avmask_ucf101/epoch_1200.pth work_dirs/avmask_ucf101/talknet_audio.pth
#   tools/dist_train.sh configs/avmask_ucf101_finetune_audio.py 8
#   python tools/test.py configs/avmask_ucf101_finetune_audio.py work_dirs/.../best_*.pth
_base_ = ['./_base_/models/talknet_recognizer_audio.py', './_base_/datasets/ucf101_av_finetune.py',
          './_base_/schedules/finetune_100e.py', './_base_/default_runtime.py']
load_from = 'work_dirs/avmask_ucf101/talknet_audio.pth'

# the clips' audio steps of the AV pipelines (no frame is decoded); MMAction2's audio
# transforms read 'audios': (clips, L, F) -> (clips, 1, L, F)
__audio = ('DecordInit', 'SafeDecordInit', 'SampleFrames', 'LoadAlignedAudio', 'AudioMFCC')
train_pipeline, val_pipeline, test_pipeline = (
    [s for s in _base_[f'{split}_pipeline'] if s.type in __audio] + [
        dict(type='KeyMapper', mapping={'audios': 'audio_feature'}, auto_remap=False,
             transforms=[]),
        dict(type='FormatAudioShape', input_format='NCTF'), dict(type='PackActionInputs')]
    for split in ('train', 'val', 'test'))
train_dataloader = dict(batch_size=32,
                        dataset=dict(missing_audio='skip', pipeline=train_pipeline))
val_dataloader = dict(batch_size=32, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

max_epochs = 50
train_cfg = dict(max_epochs=max_epochs)
optim_wrapper = dict(constructor='DefaultOptimWrapperConstructor', optimizer=dict(lr=1e-3),
                     paramwise_cfg=dict(_delete_=True, norm_decay_mult=0.0, bias_decay_mult=0.0))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=5,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - 5, eta_min_ratio=0.01, by_epoch=True,
         begin=5, end=max_epochs, convert_to_iter_based=True)]
auto_scale_lr = dict(base_batch_size=256)
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=5))
