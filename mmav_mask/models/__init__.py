from . import backbones, data_preprocessors, heads, layers, necks, recognizers  # noqa: F401
from . import algorithms  # noqa: F401,E402
