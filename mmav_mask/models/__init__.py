from . import backbones, data_preprocessors, heads, layers, necks, recognizers  # noqa: F401
