# The authors' public-code variant: fusion in decoder width over visible + mask tokens
# (done without hard-coded token counts).
_base_ = ['./avmask_ucf101.py']

model = dict(fusion=dict(_delete_=True, type='DecoderAllTokensFusion', num_heads=8,
                         dropout=0.1))
