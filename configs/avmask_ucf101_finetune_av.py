# Audio-visual UCF101 fine-tuning (AVRecognizer: pretrained ViT-B + TalkNet, late fusion;
# _base_/models/avrecognizer_vit_base.py) with VideoMAE's UCF101 recipe: 16 x 4 frames,
# AdamW lr 5e-4 x batch/256, layer decay 0.7, drop path 0.2, head dropout 0.5, label
# smoothing 0.1, mixup 0.8, 5 clips x 3 crops at test (acc/top1, acc/top5, acc/mean1).
#   tools/dist_train.sh configs/avmask_ucf101_finetune_av.py 8 \
#       --cfg-options model.pretrained=work_dirs/avmask_ucf101/epoch_1200.pth
#   python tools/test.py configs/avmask_ucf101_finetune_av.py work_dirs/.../best_*.pth
_base_ = ['./_base_/models/avrecognizer_vit_base.py', './_base_/datasets/ucf101_av_finetune.py',
          './_base_/schedules/finetune_100e.py', './_base_/default_runtime.py']

model = dict(pretrained='work_dirs/avmask_ucf101/epoch_1200.pth')
default_hooks = dict(logger=dict(interval=50), checkpoint=dict(interval=5))
