from . import backbones, data_preprocessors, heads, layers, losses, necks, recognizers  # noqa: F401
from . import algorithms  # noqa: F401,E402
