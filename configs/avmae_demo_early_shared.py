# Audiovisual MAE demo, Table 1 variant:
# early-fusion encoder, shared decoder (joint reconstruction).
#   python tools/train.py configs/avmae_demo_early_shared.py
#   python tools/test.py configs/avmae_demo_early_shared.py \
#       work_dirs/avmae_demo_early_shared/epoch_20.pth
_base_ = ['./avmae_demo_mid_shared.py']
model = dict(backbone=dict(fusion='early'))
