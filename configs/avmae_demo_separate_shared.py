# Audiovisual MAE demo, Table 1 variant: separate encoders, shared decoder (joint reconstruction).
#   python tools/train.py configs/avmae_demo_separate_shared.py
#   python tools/test.py configs/avmae_demo_separate_shared.py \
#       work_dirs/avmae_demo_separate_shared/epoch_20.pth
_base_ = ['./avmae_demo_mid_shared.py']
model = dict(backbone=dict(fusion='separate'))
