from .reconstruction_metric import ReconstructionMetric  # noqa: F401
