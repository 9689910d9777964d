# MAViL stage 1 demo without the contrastive terms (alpha = beta = 0): reconstruction only,
# the baseline of the retrieval comparison.
#   python tools/train.py configs/mavil_stage1_demo_nocontrast.py
_base_ = ['./mavil_stage1_demo.py']
model = dict(inter_loss=None, intra_loss=None)
