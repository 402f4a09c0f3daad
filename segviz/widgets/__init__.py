"""Thin ipywidgets shells around segviz.viz figures and the pure core."""

from .base import Explorer
from .checkerboard import CheckerboardExplorer
from .conv_matrix import ConvMatrixExplorer
from .dilation import DilationExplorer
from .aspp import ASPPExplorer
from .fcn_skips import FCNSkipExplorer
from .losses import LossExplorer
from .predictions import PredictionViewer
from .receptive_field import ReceptiveFieldExplorer
from .sliding_window import SlidingWindowExplorer
from .transposed_conv import TransposedConvExplorer
from .unpooling import UnpoolingExplorer

__all__ = [
    "Explorer", "SlidingWindowExplorer", "ReceptiveFieldExplorer", "UnpoolingExplorer",
    "CheckerboardExplorer", "DilationExplorer", "TransposedConvExplorer", "ConvMatrixExplorer",
    "FCNSkipExplorer", "PredictionViewer", "ASPPExplorer", "LossExplorer",
]
