"""Pure figure builders: result dataclass → plotly Figure. No ipywidgets here."""

from .aspp import ASPPResult, compute_aspp, figure_aspp, paper_rates, update_aspp
from .checkerboard import CheckerboardResult, compute_checkerboard, figure_checkerboard, update_checkerboard
from .conv_matrix import ConvMatrixView, compute_conv_matrix, figure_conv_matrix, update_conv_matrix
from .dilation import DilationResult, compute_dilation, figure_dilation, update_dilation
from .fcn_skips import FCNSkipResult, compute_fcn_skips, figure_fcn_skips, fit_score_layers, update_fcn_skips
from .losses import (
    LossInputs,
    LossResult,
    compute_losses,
    default_loss_inputs,
    figure_losses,
    half_trained_logits,
    loss_inputs,
    update_losses,
)
from .predictions import (
    PredictionView,
    compute_prediction_view,
    demo_predictions,
    figure_prediction_view,
    predict_labels,
    update_prediction_view,
)
from .receptive_field import ReceptiveFieldView, compute_receptive_field_view, figure_receptive_field, update_receptive_field
from .scenes import TaskViews, compute_tasks, figure_images, figure_palette, figure_tasks
from .transposed_conv import TransposedConvView, compute_transposed_conv, figure_transposed_conv, update_transposed_conv
from .unpooling import UnpoolingResult, compute_unpooling, figure_unpooling, update_unpooling
from .training import LiveHistory, figure_history, update_history
from .sliding_window import (
    SlidingWindowView,
    compute_sliding_window,
    figure_sliding_window,
    update_sliding_window,
)

__all__ = [
    "ASPPResult", "paper_rates", "compute_aspp", "figure_aspp", "update_aspp",
    "LossInputs", "LossResult", "half_trained_logits", "loss_inputs", "default_loss_inputs", "compute_losses",
    "figure_losses", "update_losses",
    "FCNSkipResult", "compute_fcn_skips", "figure_fcn_skips", "update_fcn_skips", "fit_score_layers",
    "PredictionView", "compute_prediction_view", "figure_prediction_view", "update_prediction_view",
    "predict_labels", "demo_predictions",
    "ConvMatrixView", "compute_conv_matrix", "figure_conv_matrix", "update_conv_matrix",
    "TransposedConvView", "compute_transposed_conv", "figure_transposed_conv", "update_transposed_conv",
    "CheckerboardResult", "compute_checkerboard", "figure_checkerboard", "update_checkerboard",
    "DilationResult", "compute_dilation", "figure_dilation", "update_dilation",
    "ReceptiveFieldView", "compute_receptive_field_view", "figure_receptive_field", "update_receptive_field",
    "UnpoolingResult", "compute_unpooling", "figure_unpooling", "update_unpooling",
    "TaskViews", "compute_tasks", "figure_tasks", "figure_palette", "figure_images",
    "SlidingWindowView", "compute_sliding_window", "figure_sliding_window", "update_sliding_window",
    "figure_history", "update_history", "LiveHistory",
]
