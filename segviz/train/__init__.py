"""Training: one seeded loop for every lecture, lab and bench.

* :func:`fit` trains a model on ``(images, masks)`` tensors, a :class:`~segviz.data.Scenes` or a
  Dataset, evaluates FCN's four scores as it goes, stops at a target score or a time budget, and
  returns a :class:`History` (:meth:`History.time_to` answers "how long to 0.85 mean IU?");
* :func:`evaluate` (one confusion matrix over the whole set) and :func:`predict` (label maps);
* :func:`save_checkpoint` and :func:`load_checkpoint`: weights, optimizer and history in one file;
* :data:`BENCH_CONFIG` and :func:`bench_model`: the small FCN configuration and training settings
  that ``bench/train.py`` measures and the lectures reuse.

The core never imports plotly or ipywidgets: :func:`fit`'s live plot (``live=True``) imports
:mod:`segviz.viz.training` only when it is switched on.
"""

from .checkpoint import load_checkpoint, save_checkpoint
from .config import BENCH_CONFIG, bench_model
from .history import History
from .loop import evaluate, fit, predict

__all__ = ["fit", "evaluate", "predict", "History", "save_checkpoint", "load_checkpoint", "BENCH_CONFIG", "bench_model"]
