# Audio-visual fine-tuning on the demo data (CPU, minutes): avmask_ucf101_finetune_av.py
# at the size of the tiny pretraining model (_base_/models/avmask_vit_tiny.py: 8 frames at
# 64 x 64, ViT 96-d, depth 2; TalkNet tokens projected to 96-d).
#   python tools/train.py configs/avmask_demo_finetune_av.py \
#       --cfg-options model.pretrained=$(cat work_dirs/avmask_demo_tiny/last_checkpoint)
#   python tools/test.py configs/avmask_demo_finetune_av.py \
#       work_dirs/avmask_demo_finetune_av/epoch_30.pth
_base_ = ['./_base_/models/avrecognizer_vit_base.py', './_base_/datasets/demo_av_finetune.py',
          './_base_/schedules/demo_finetune_30e.py', './_base_/default_runtime.py']

num_classes, embed_dims = 4, 96
model = dict(
    backbone=dict(img_size=_base_.img_size, num_frames=_base_.clip_len, drop_path_rate=0.1,
                  arch=dict(embed_dims=embed_dims, depth=2, num_heads=3)),
    audio_backbone=dict(out_dim=embed_dims, num_tokens=_base_.clip_len),
    cls_head=dict(num_classes=num_classes, in_channels=2 * embed_dims, dropout_ratio=0.0),
    data_preprocessor=dict(blending=dict(num_classes=num_classes)))
default_hooks = dict(logger=dict(interval=4),
                     checkpoint=dict(interval=10, max_keep_ckpts=1, save_best=None))
