# Video-only fine-tuning on the demo data (CPU, minutes): avmask_ucf101_finetune_video.py
# (MMAction2's Recognizer3D + VisionTransformer, layer decay, drop path, mixup/cutmix,
# 5 clips x 3 crops at test) at the size of the demo pretraining.
#   python tools/convert/to_mmaction_vit.py work_dirs/avmask_demo_tiny/epoch_N.pth \
#       work_dirs/avmask_demo_tiny/vit_mmaction.pth --num-frames 8 --img-size 64
#   python tools/train.py configs/avmask_demo_finetune_video.py
#   python tools/test.py configs/avmask_demo_finetune_video.py \
#       work_dirs/avmask_demo_finetune_video/epoch_30.pth
_base_ = ['./_base_/models/vit_base_recognizer3d.py', './_base_/datasets/demo_av_finetune.py',
          './_base_/schedules/demo_finetune_30e.py', './_base_/default_runtime.py']

num_classes, embed_dims = 4, 96  # = configs/_base_/models/avmask_vit_tiny.py
model = dict(
    backbone=dict(img_size=_base_.img_size, num_frames=_base_.clip_len, embed_dims=embed_dims,
                  depth=2, num_heads=3, drop_path_rate=0.1,
                  init_cfg=dict(checkpoint='work_dirs/avmask_demo_tiny/vit_mmaction.pth')),
    cls_head=dict(num_classes=num_classes, in_channels=embed_dims, dropout_ratio=0.0),
    data_preprocessor=dict(blending=dict(augments=[
        dict(type='MixupBlending', alpha=0.8, num_classes=num_classes),
        dict(type='CutmixBlending', alpha=1.0, num_classes=num_classes)])))

# the audio-visual pipelines without their audio steps, packed for Recognizer3D
__audio = ('LoadAlignedAudio', 'AudioMFCC', 'PackAVInputs')
train_pipeline, val_pipeline, test_pipeline = (
    [s for s in _base_[f'{split}_pipeline'] if s.type not in __audio]
    + [dict(type='PackActionInputs')] for split in ('train', 'val', 'test'))
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
default_hooks = dict(logger=dict(interval=4),
                     checkpoint=dict(interval=10, max_keep_ckpts=1, save_best=None))
