# AV-MaskEnhancer pretraining on UCF101 (paper setting): ViT-B/16, 16 frames x interval 4,
# 224 x 224, tube mask 0.9, decoder depth 4, ~1200 epochs, AdamW lr 1.5e-4 x batch/256.
# Train: tools/dist_train.sh configs/avmask_ucf101.py 8
# Start from Kinetics-400 VideoMAE: --cfg-options model.pretrained=PATH/TO/videomae_k400.pth
_base_ = [
    './_base_/models/avmask_vit_base.py',
    './_base_/datasets/ucf101_av.py',
    './_base_/schedules/avmask_pretrain_1200e.py',
    './_base_/default_runtime.py',
]

default_hooks = dict(checkpoint=dict(interval=50, save_best='rec/masked_mse', rule='less'))
