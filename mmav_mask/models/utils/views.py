"""Merging the view axis (clips x crops) of batched inputs into the batch axis."""
from torch import Tensor


def merge_views(x: Tensor, num_views: int, sample_dims: int) -> Tensor:
    """(N, V, *S) -> (N*V, *S); a per-sample (N, *S) tensor is repeated per view.

    Args:
        x: tensor with or without a view axis after the batch axis.
        num_views: V, the number of views of the video in the batch.
        sample_dims: len(S), the number of dimensions of one view.

    Returns:
        (N*V, *S), views of a sample adjacent, like ``imgs.flatten(0, 1)``.
    """
    if x.dim() == sample_dims + 2:
        return x.flatten(0, 1)
    return x.repeat_interleave(num_views, 0) if num_views > 1 else x
