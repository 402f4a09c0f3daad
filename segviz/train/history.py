"""What a training run did: one record per evaluation, and the questions asked of them.

:func:`~segviz.train.fit` appends a record each time it evaluates the model: the step and epoch,
the training time so far (``seconds``, wall time spent in training steps, evaluation excluded),
the mean training loss since the previous record, and, with validation data, the validation
loss and FCN's four scores. :class:`History` keeps them and answers "when did it reach 0.85
mean IU?" (:meth:`History.time_to`), "what was the best?" (:meth:`History.best`) and "why did it
stop?" (:attr:`History.stopped_because`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from ..validation import check_choice, check_number

__all__ = ["History", "RECORD_KEYS", "METRICS", "STOP_REASONS"]

#: The keys of every record, in the order :meth:`History.table` prints them.
RECORD_KEYS: tuple[str, ...] = (
    "step", "epoch", "seconds", "train_loss", "val_loss",
    "pixel_accuracy", "mean_accuracy", "mean_iou", "fw_iou",
)  # fmt: skip
#: The keys a target or :meth:`History.best` may name; lower is better for the two losses.
METRICS: tuple[str, ...] = RECORD_KEYS[3:]
#: Why a run stopped: it ran all its epochs, reached its target, or used up its time.
STOP_REASONS: tuple[str, ...] = ("epochs", "target", "time_limit")

_HEADERS = {"pixel_accuracy": "pixel_acc", "mean_accuracy": "mean_acc"}


def _lower_is_better(metric: str) -> bool:
    return metric.endswith("loss")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and not math.isnan(value)


class History:
    """The records of one :func:`~segviz.train.fit` run, one per evaluation.

    Each record is a dict with the keys of :data:`RECORD_KEYS`: ``step`` (optimizer steps so
    far), ``epoch`` (1-based, the epoch the step belongs to), ``seconds`` (training wall time
    so far, evaluation excluded), ``train_loss`` (mean over the steps since the previous
    record), ``val_loss``, ``pixel_accuracy``, ``mean_accuracy``, ``mean_iou`` and ``fw_iou``
    (on the validation data; ``None`` when there is none).

    Args:
        records: the records so far (copied).
        target: the value of ``target_metric`` the run aimed for, or ``None``.
        target_metric: one of :data:`METRICS` (``"mean_iou"`` by default).
        stopped_because: ``"epochs"``, ``"target"`` or ``"time_limit"`` once the run is over
            (``None`` while it runs).

    Example:
        >>> history = History([
        ...     {"step": 10, "epoch": 1, "seconds": 2.0, "train_loss": 0.9, "mean_iou": 0.6},
        ...     {"step": 20, "epoch": 2, "seconds": 4.1, "train_loss": 0.5, "mean_iou": 0.8},
        ... ], target=0.75, stopped_because="target")
        >>> history.time_to(0.75), history.best()["step"], history.reached_target
        (4.1, 20, True)
        >>> history
        History(2 evaluations, 20 steps, 4.1 s, best mean_iou 0.8 at step 20, target 0.75 reached,
                stopped: target)
    """

    def __init__(
        self,
        records: Iterable[Mapping[str, Any]] = (),
        *,
        target: float | None = None,
        target_metric: str = "mean_iou",
        stopped_because: str | None = None,
    ) -> None:
        self.records: list[dict[str, Any]] = []
        for record in records:
            self.append(record)
        self.target_metric = check_choice("target_metric", target_metric, METRICS)
        self.target = None if target is None else check_number("target", target)
        self.stopped_because = (
            None if stopped_because is None else check_choice("stopped_because", stopped_because, STOP_REASONS)
        )

    def append(self, record: Mapping[str, Any]) -> None:
        """Add one record; missing keys of :data:`RECORD_KEYS` are filled with ``None``.

        Example:
            >>> history = History()
            >>> history.append({"step": 5, "train_loss": 1.2})
            >>> history.final["epoch"] is None, len(history)
            (True, 1)
        """
        if not isinstance(record, Mapping):
            raise ValueError(f"record of type {type(record).__name__} given; a record must be a dict")
        unknown = sorted(set(record) - set(RECORD_KEYS))
        if unknown:
            raise ValueError(
                f"record keys {unknown} given; a record may hold only {', '.join(RECORD_KEYS)}"
            )
        self.records.append({key: record.get(key) for key in RECORD_KEYS})

    def __len__(self) -> int:
        return len(self.records)

    def values(self, key: str) -> list[Any]:
        """One key of every record, in order (``None`` where a record lacks it).

        Example:
            >>> History([{"step": 1, "mean_iou": 0.5}, {"step": 2}]).values("mean_iou")
            [0.5, None]
        """
        check_choice("key", key, RECORD_KEYS)
        return [record[key] for record in self.records]

    @property
    def final(self) -> dict[str, Any] | None:
        """The last record (``None`` before the first evaluation).

        Example:
            >>> History([{"step": 1}, {"step": 2}]).final["step"]
            2
        """
        return self.records[-1] if self.records else None

    def best(self, metric: str = "mean_iou") -> dict[str, Any] | None:
        """The record with the best value of ``metric``: highest score, or lowest loss.

        Ties go to the earliest record; records without the metric are skipped.

        Args:
            metric: one of :data:`METRICS`.

        Returns:
            The record (a dict), or ``None`` when no record has the metric.

        Example:
            >>> history = History([{"step": 1, "val_loss": 0.7, "mean_iou": 0.4},
            ...                    {"step": 2, "val_loss": 0.5, "mean_iou": 0.3}])
            >>> history.best()["step"], history.best("val_loss")["step"]
            (1, 2)
        """
        metric = check_choice("metric", metric, METRICS)
        scored = [record for record in self.records if _is_number(record[metric])]
        if not scored:
            return None
        sign = -1.0 if _lower_is_better(metric) else 1.0
        return max(scored, key=lambda record: sign * record[metric])  # max keeps the first of equals

    def time_to(self, value: float, metric: str = "mean_iou") -> float | None:
        """Training seconds until ``metric`` first reached ``value`` (``≥`` for scores, ``≤`` for losses).

        Args:
            value: the value to reach, e.g. ``0.85``.
            metric: one of :data:`METRICS`.

        Returns:
            The ``seconds`` of the first record that reached it, or ``None`` if none did.

        Example:
            >>> history = History([{"step": 1, "seconds": 3.0, "mean_iou": 0.5},
            ...                    {"step": 2, "seconds": 6.5, "mean_iou": 0.9}])
            >>> history.time_to(0.85), history.time_to(0.95)
            (6.5, None)
        """
        record = self.first_reaching(value, metric)
        return None if record is None else record["seconds"]

    def first_reaching(self, value: float, metric: str = "mean_iou") -> dict[str, Any] | None:
        """The first record whose ``metric`` reached ``value`` (see :meth:`time_to`), or ``None``.

        Example:
            >>> History([{"step": 4, "mean_iou": 0.9}]).first_reaching(0.8)["step"]
            4
        """
        metric = check_choice("metric", metric, METRICS)
        value = check_number("value", value)
        for record in self.records:
            score = record[metric]
            if _is_number(score) and (score <= value if _lower_is_better(metric) else score >= value):
                return record
        return None

    @property
    def reached_target(self) -> bool:
        """Whether some record reached :attr:`target` (``False`` when there is no target).

        Example:
            >>> History([{"mean_iou": 0.7}], target=0.8).reached_target
            False
        """
        return self.target is not None and self.first_reaching(self.target, self.target_metric) is not None

    def table(self, digits: int = 3) -> str:
        """The records as an aligned text table, values rounded to ``digits`` decimals.

        Columns that no record fills (e.g. the scores when there was no validation data) are
        left out; a missing value prints as ``-``.

        Example:
            >>> print(History([{"step": 10, "epoch": 1, "seconds": 1.234, "train_loss": 0.91234}]).table())
            step  epoch  seconds  train_loss
              10      1     1.23       0.912
        """
        keys = [key for key in RECORD_KEYS if any(record[key] is not None for record in self.records)]
        if not keys:
            return "(no evaluations)"

        def cell(key: str, value: Any) -> str:
            if value is None:
                return "-"
            if key in ("step", "epoch"):
                return str(value)
            if key == "seconds":
                return f"{value:.2f}"
            return f"{value:.{digits}f}"

        headers = [_HEADERS.get(key, key) for key in keys]
        rows = [[cell(key, record[key]) for key in keys] for record in self.records]
        widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(headers)]
        lines = ["  ".join(h.rjust(w) if i else h.ljust(w) for i, (h, w) in enumerate(zip(headers, widths)))]
        lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths)) for row in rows]
        return "\n".join(line.rstrip() for line in lines)

    def to_dict(self) -> dict[str, Any]:
        """Plain Python data (for checkpoints and JSON); :meth:`from_dict` reverses it.

        Example:
            >>> data = History([{"step": 1, "mean_iou": 0.5}], target=0.8).to_dict()
            >>> data["target"], History.from_dict(data).records == History([{"step": 1, "mean_iou": 0.5}]).records
            (0.8, True)
        """
        return {
            "records": [dict(record) for record in self.records],
            "target": self.target,
            "target_metric": self.target_metric,
            "stopped_because": self.stopped_because,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> History:
        """Rebuild a :class:`History` from :meth:`to_dict`'s output.

        Example:
            >>> History.from_dict({"records": [{"step": 3}], "stopped_because": "epochs"}).stopped_because
            'epochs'
        """
        if not isinstance(data, Mapping) or "records" not in data:
            raise ValueError(
                f"data of type {type(data).__name__} given; History.from_dict needs the dict made by "
                "History.to_dict (with a 'records' list)"
            )
        return cls(
            data["records"],
            target=data.get("target"),
            target_metric=data.get("target_metric", "mean_iou"),
            stopped_because=data.get("stopped_because"),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, History):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __repr__(self) -> str:
        if not self.records:
            return "History(no evaluations)"
        final = self.final
        parts = [f"{len(self.records)} evaluation{'s' * (len(self.records) != 1)}"]
        if final["step"] is not None:
            parts.append(f"{final['step']} steps")
        if final["seconds"] is not None:
            parts.append(f"{final['seconds']:.1f} s")
        metric = self.target_metric
        best = self.best(metric)
        if best is not None:
            where = f" at step {best['step']}" if best["step"] is not None else ""
            parts.append(f"best {metric} {round(best[metric], 3)}{where}")
        if self.target is not None:
            parts.append(f"target {self.target:g} {'reached' if self.reached_target else 'not reached'}")
        if self.stopped_because is not None:
            parts.append(f"stopped: {self.stopped_because}")
        return f"History({', '.join(parts)})"
