"""Integer arithmetic of convolutional networks: costs, output sizes, receptive fields, convolutionalization."""

from .convolutionalize import convolutionalize
from .cost import CostEstimate, count_flops, dense_output_parameters, sliding_window_cost
from .receptive_field import (
    LayerReceptiveField,
    ReceptiveField,
    compose,
    gradient_receptive_field,
    input_size_for,
    receptive_field,
    receptive_fields,
)
from .atrous import aspp_multiply_adds, atrous_span, atrous_taps, feature_map_size, valid_tap_counts, valid_tap_fraction
from .sizes import conv_output_size, conv_transpose_output_size, pool_output_size

__all__ = [
    "count_flops", "CostEstimate", "sliding_window_cost", "dense_output_parameters",
    "conv_output_size", "conv_transpose_output_size", "pool_output_size",
    "ReceptiveField", "LayerReceptiveField", "compose", "input_size_for",
    "receptive_field", "receptive_fields", "gradient_receptive_field", "convolutionalize",
    "atrous_taps", "valid_tap_counts", "valid_tap_fraction", "feature_map_size", "atrous_span", "aspp_multiply_adds",
]
