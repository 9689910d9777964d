# Video-only UCF101 fine-tuning of the pretrained visual encoder with MMAction2's own
# Recognizer3D + VisionTransformer (_base_/models/vit_base_recognizer3d.py), VideoMAE's
# recipe (_base_/schedules/finetune_100e.py) with RandAugment m7 n4, random erasing 0.25
# and 2 repeated augmentations of each decoded clip; 5 clips x 3 crops at test.
#   python tools/convert/to_mmaction_vit.py \
#       work_dirs/avmask_ucf101/epoch_1200.pth work_dirs/avmask_ucf101/vit-b_mmaction.pth
#   tools/dist_train.sh configs/avmask_ucf101_finetune_video.py 8 --cfg-options \
#       model.backbone.init_cfg.checkpoint=work_dirs/avmask_ucf101/vit-b_mmaction.pth
#   python tools/test.py configs/avmask_ucf101_finetune_video.py work_dirs/.../best_*.pth
_base_ = ['./_base_/models/vit_base_recognizer3d.py', './_base_/datasets/ucf101_av_finetune.py',
          './_base_/schedules/finetune_100e.py', './_base_/default_runtime.py']

# the audio-visual pipelines without their audio steps, packed for Recognizer3D
__audio = ('LoadAlignedAudio', 'AudioMFCC', 'PackAVInputs')
train_pipeline, val_pipeline, test_pipeline = (
    [s for s in _base_[f'{split}_pipeline'] if s.type not in __audio]
    + [dict(type='PackActionInputs')] for split in ('train', 'val', 'test'))
train_dataloader = dict(
    batch_size=8,  # x 2 repeats = 16 clips per GPU; 8 GPUs -> 128 (VideoMAE --num_sample 2)
    collate_fn=dict(type='repeat_pseudo_collate'),
    dataset=dict(_delete_=True, type='RepeatAugDataset', num_repeats=2, sample_once=True,
                 ann_file=_base_.ann_file_train, pipeline=train_pipeline,
                 data_prefix=dict(video=f'{_base_.data_root}/videos')))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
auto_scale_lr = dict(base_batch_size=64)  # 8 GPUs x 8 videos
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=5))
