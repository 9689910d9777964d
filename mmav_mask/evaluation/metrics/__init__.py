from .reconstruction_metric import ReconstructionMetric  # noqa: F401
from .av_reconstruction_metric import AVReconstructionMetric  # noqa: F401
from .retrieval_metric import AVRetrievalMetric  # noqa: F401
