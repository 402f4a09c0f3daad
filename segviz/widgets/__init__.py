"""Thin ipywidgets shells around segviz.viz figures and the pure core."""

from .base import Explorer
from .receptive_field import ReceptiveFieldExplorer
from .sliding_window import SlidingWindowExplorer

__all__ = ["Explorer", "SlidingWindowExplorer", "ReceptiveFieldExplorer"]
