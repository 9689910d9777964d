# Audiovisual MAE demo, Table 1 variant:
# mid-fusion encoder, separate decoders (joint reconstruction).
#   python tools/train.py configs/avmae_demo_mid_separate.py
#   python tools/test.py configs/avmae_demo_mid_separate.py \
#       work_dirs/avmae_demo_mid_separate/epoch_20.pth
_base_ = ['./avmae_demo_mid_shared.py']
model = dict(neck=dict(fusion='separate'))
