"""Training: one seeded loop for every lecture, lab and bench.

* :func:`fit` trains a model on ``(images, masks)`` tensors, a :class:`~segviz.data.Scenes` or a
  Dataset, evaluates FCN's four scores as it goes, stops at a target score or a time budget, and
  returns a :class:`History` (:meth:`History.time_to` answers "how long to 0.85 mean IU?");
* :func:`evaluate` (one confusion matrix over the whole set) and :func:`predict` (label maps);
* :func:`save_checkpoint` and :func:`load_checkpoint`: weights, optimizer and history in one file;
* :func:`bench_config`, :func:`bench_model`, :func:`bench_data`: the small FCN, its training
  settings and its data, as ``bench/train.py`` measures them and the lectures reuse them;
* :func:`schedule_factor`: the ``"onecycle"`` and ``"cosine"`` learning-rate schedules.

The core never imports plotly or ipywidgets: :func:`fit`'s live plot (``live=True``) imports
:mod:`segviz.viz.training` only when it is switched on.
"""

from .checkpoint import load_checkpoint, save_checkpoint
from .config import bench_config, bench_data, bench_model
from .history import History
from .loop import evaluate, fit, predict, schedule_factor

__all__ = [
    "fit", "evaluate", "predict", "History", "save_checkpoint", "load_checkpoint", "schedule_factor",
    "bench_config", "bench_model", "bench_data",
]
