# MAViL stage 1 demo with the MBT fusion encoder (4 bottleneck tokens per layer, Sec. 3.1).
#   python tools/train.py configs/mavil_stage1_demo_mbt.py
_base_ = ['./mavil_stage1_demo.py']
model = dict(backbone=dict(fusion=dict(mode='mbt')))
