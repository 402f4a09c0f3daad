"""Metrics: how good a segmentation (or an upsampled image) is."""

from .checkerboard import checkerboard_energy

__all__ = ["checkerboard_energy"]
