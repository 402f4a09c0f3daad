"""Pure figure builders: result dataclass → plotly Figure. No ipywidgets here."""

from .scenes import TaskViews, compute_tasks, figure_images, figure_palette, figure_tasks
from .sliding_window import (
    SlidingWindowView,
    compute_sliding_window,
    figure_sliding_window,
    update_sliding_window,
)

__all__ = [
    "TaskViews", "compute_tasks", "figure_tasks", "figure_palette", "figure_images",
    "SlidingWindowView", "compute_sliding_window", "figure_sliding_window", "update_sliding_window",
]
