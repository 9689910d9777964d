# Audiovisual MAE demo, Table 1 variant:
# mid-fusion encoder, early-fusion decoder (joint reconstruction).
#   python tools/train.py configs/avmae_demo_mid_early.py
#   python tools/test.py configs/avmae_demo_mid_early.py work_dirs/avmae_demo_mid_early/epoch_20.pth
_base_ = ['./avmae_demo_mid_shared.py']
model = dict(neck=dict(fusion='early'))
