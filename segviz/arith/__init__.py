"""Integer arithmetic of convolutional networks: costs, output sizes, receptive fields."""

from .cost import CostEstimate, count_flops, dense_output_parameters, sliding_window_cost

__all__ = ["count_flops", "CostEstimate", "sliding_window_cost", "dense_output_parameters"]
