"""From-scratch teaching ops for upsampling and convolution, each checked against PyTorch.

Every op takes ``Tensor[N, C, H, W]`` and PyTorch's own weight layouts, so it can be compared
with its oracle (``F.conv2d``, ``F.conv_transpose2d``, ``F.max_unpool2d``, ``F.interpolate``)
line for line:

* convolution as a matrix: :func:`conv2d_matrix`, :func:`conv2d_via_matrix`;
* three views of the transposed convolution: :func:`conv_transpose2d_via_matrix` (``Wᵀ``),
  :func:`conv_transpose2d_scatter` (stamp a weighted filter copy per input pixel),
  :func:`conv_transpose2d_as_conv` (zero-insert, pad, flipped kernel);
* why transposed convolutions make checkerboards: :func:`overlap_count`; the remedy:
  :func:`resize_conv`;
* unpooling: :func:`unpool_nearest`, :func:`unpool_bed_of_nails`, :func:`max_unpool`;
* kernels: :func:`bilinear_kernel` (FCN's initialisation), :func:`dilate_kernel` (atrous).
"""

from .bilinear_kernel import bilinear_kernel
from .conv_matrix import conv2d_matrix, conv2d_via_matrix
from .conv_transpose_as_conv import conv_transpose2d_as_conv
from .conv_transpose_matrix import conv_transpose2d_via_matrix
from .conv_transpose_scatter import conv_transpose2d_scatter
from .dilate_kernel import dilate_kernel
from .max_unpool import MaxUnpool, max_unpool
from .overlap import overlap_count
from .resize_conv import ResizeConv, resize_conv
from .unpool_bed_of_nails import UnpoolBedOfNails, unpool_bed_of_nails
from .unpool_nearest import UnpoolNearest, unpool_nearest

__all__ = [
    "conv2d_matrix",
    "conv2d_via_matrix",
    "conv_transpose2d_via_matrix",
    "conv_transpose2d_scatter",
    "conv_transpose2d_as_conv",
    "overlap_count",
    "unpool_nearest",
    "UnpoolNearest",
    "unpool_bed_of_nails",
    "UnpoolBedOfNails",
    "max_unpool",
    "MaxUnpool",
    "bilinear_kernel",
    "dilate_kernel",
    "resize_conv",
    "ResizeConv",
]
