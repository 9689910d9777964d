# Ablation "w/o cross-attention" (paper Table II): time-aligned audio features concatenated
# to the visible video tokens, no attention.
_base_ = ['./avmask_ucf101.py']

model = dict(fusion=dict(_delete_=True, type='ConcatFusion'))
