"""fit: determinism, stopping (epochs, target, time limit), data kinds, checkpoints, bad inputs."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from segviz import seed_everything
from segviz.data import SyntheticScenes, make_scenes
from segviz.models import FCN8s
from segviz.train import History, fit, load_checkpoint

SIZE = 32


def tiny_model(seed: int = 0) -> nn.Module:
    seed_everything(seed)
    return FCN8s(num_classes=7, channels=(4, 4, 8, 8, 8), num_convs=1, fc_channels=16)


@pytest.fixture(scope="module")
def train_scenes():
    return make_scenes(16, size=SIZE, seed=0)


@pytest.fixture(scope="module")
def val_scenes():
    return make_scenes(8, size=SIZE, seed=1)


def run(train, val=None, seed=0, **kwargs):
    model = tiny_model(seed)
    kwargs = {"epochs": 2, "batch_size": 4, "device": "cpu", **kwargs}
    return fit(model, train, val, seed=seed, **kwargs), model


def without_seconds(history: History) -> list[dict]:
    return [{k: v for k, v in record.items() if k != "seconds"} for record in history.records]


def test_same_seed_gives_identical_losses_and_weights(train_scenes, val_scenes):
    first, model_a = run(train_scenes, val_scenes)
    second, model_b = run(train_scenes, val_scenes)
    assert without_seconds(first) == without_seconds(second)
    for (name, a), b in zip(model_a.state_dict().items(), model_b.state_dict().values()):
        assert torch.equal(a, b), name


def test_another_seed_shuffles_differently(train_scenes):
    first, _ = run(train_scenes, seed=0)
    other, _ = run(train_scenes, seed=1)
    assert first.values("train_loss") != other.values("train_loss")


def test_records_one_evaluation_per_epoch_with_every_key(train_scenes, val_scenes):
    history, _ = run(train_scenes, val_scenes, epochs=3)
    assert history.values("step") == [4, 8, 12]  # 16 images / batch 4
    assert history.values("epoch") == [1, 2, 3]
    assert history.stopped_because == "epochs"
    seconds = history.values("seconds")
    assert all(s > 0 for s in seconds) and seconds == sorted(seconds)
    for record in history.records:
        for key in ("train_loss", "val_loss", "pixel_accuracy", "mean_accuracy", "mean_iou", "fw_iou"):
            assert isinstance(record[key], float) and math.isfinite(record[key]), key


def test_training_lowers_the_loss(train_scenes):
    history, _ = run(train_scenes, epochs=6, lr=1e-2)
    losses = history.values("train_loss")
    assert losses[-1] < losses[0]


def test_eval_every_counts_steps_and_ends_with_a_final_evaluation(train_scenes, val_scenes):
    history, _ = run(train_scenes, val_scenes, eval_every=3)  # 8 steps: 3, 6, then 8 at the end
    assert history.values("step") == [3, 6, 8]
    assert history.values("epoch") == [1, 2, 2]


def test_stops_as_soon_as_the_target_is_reached(train_scenes, val_scenes):
    history, _ = run(train_scenes, val_scenes, epochs=5, target=1e-9, eval_every=2)
    assert history.stopped_because == "target" and history.reached_target
    assert history.values("step") == [2]
    assert history.time_to(1e-9) == history.final["seconds"]


def test_target_on_a_loss_means_at_most(train_scenes, val_scenes):
    history, _ = run(train_scenes, val_scenes, epochs=5, target=100.0, target_metric="val_loss")
    assert history.stopped_because == "target" and len(history) == 1


def test_unreached_target_runs_all_epochs(train_scenes, val_scenes):
    history, _ = run(train_scenes, val_scenes, target=1.0)
    assert history.stopped_because == "epochs" and not history.reached_target
    assert history.time_to(1.0) is None


def test_time_limit_stops_after_the_step_that_exceeds_it(train_scenes, val_scenes):
    history, _ = run(train_scenes, val_scenes, epochs=50, time_limit=1e-6)
    assert history.stopped_because == "time_limit"
    assert history.values("step") == [1]  # the first step already exceeds the budget, then one evaluation
    assert history.final["mean_iou"] is not None


def test_without_validation_data_only_the_training_loss_is_recorded(train_scenes):
    history, _ = run(train_scenes)
    assert history.final["train_loss"] is not None and history.final["mean_iou"] is None
    assert history.best() is None


@pytest.mark.parametrize("kind", ["scenes", "tuple", "dataset"])
def test_accepts_scenes_tuples_and_datasets(kind, train_scenes):
    data = {
        "scenes": train_scenes,
        "tuple": (train_scenes.images, train_scenes.masks),
        "dataset": SyntheticScenes(16, size=SIZE, seed=0),
    }[kind]
    history, _ = run(data, (train_scenes.images[:4], train_scenes.masks[:4]), epochs=1)
    assert history.values("step") == [4]
    assert 0 <= history.final["mean_iou"] <= 1


def test_scenes_and_tuple_train_identically(train_scenes):
    a, _ = run(train_scenes)
    b, _ = run((train_scenes.images, train_scenes.masks))
    assert without_seconds(a) == without_seconds(b)


def test_incomplete_last_batch_is_dropped_but_a_small_set_still_trains(train_scenes):
    history, _ = run((train_scenes.images[:10], train_scenes.masks[:10]), epochs=1)
    assert history.values("step") == [2]  # 10 images, batch 4: two full batches
    history, _ = run((train_scenes.images[:3], train_scenes.masks[:3]), epochs=1)
    assert history.values("step") == [1]  # fewer images than a batch: one batch of 3


def test_ignored_pixels_do_not_count(train_scenes):
    masks = train_scenes.masks.clone()
    masks[:, :4] = 255
    history, _ = run((train_scenes.images, masks), (train_scenes.images[:4], masks[:4]), epochs=1)
    assert math.isfinite(history.final["val_loss"])


def test_custom_loss_optimizer_and_scheduler_are_used(train_scenes):
    model = tiny_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
    calls, rates = [], []

    def loss(logits, target):
        calls.append(tuple(logits.shape))
        rates.append(optimizer.param_groups[0]["lr"])
        return nn.functional.cross_entropy(logits, target, ignore_index=255)

    fit(model, train_scenes, epochs=2, batch_size=4, optimizer=optimizer, loss=loss, scheduler="onecycle",
        device="cpu")
    assert calls == [(4, 7, SIZE, SIZE)] * 8
    # one cycle: warm up from peak / 25 to the peak, then anneal far below the start
    assert rates[0] == pytest.approx(0.05 / 25) and max(rates) > 0.04 and rates[-1] < 0.05 / 25 / 1000


def test_scheduler_can_be_a_function(train_scenes):
    seen = {}

    def make(optimizer, total_steps):
        seen["total_steps"] = total_steps
        return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5)

    run(train_scenes, epochs=3, scheduler=make)
    assert seen == {"total_steps": 12}


def test_dict_output_of_torchvision_models_is_unwrapped(train_scenes):
    class DictModel(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(3, 7, 3, padding=1)

        def forward(self, x):
            return {"out": self.conv(x), "aux": None}

    history = fit(DictModel(), train_scenes, train_scenes, epochs=1, batch_size=8, device="cpu")
    assert history.final["mean_iou"] is not None


def test_checkpoint_keeps_the_best_weights_and_the_full_history(tmp_path, train_scenes, val_scenes):
    path = tmp_path / "run" / "best.pt"
    history, model = run(train_scenes, val_scenes, epochs=4, lr=1e-2, checkpoint=path)
    fresh = tiny_model(seed=5)
    restored = load_checkpoint(path, fresh)
    assert restored == history and restored.stopped_because == "epochs"
    best_step = history.best()["step"]
    if best_step == history.final["step"]:  # the best is the last: the weights are the final ones
        for a, b in zip(model.state_dict().values(), fresh.state_dict().values()):
            assert torch.equal(a, b)
    # the restored weights score what the best record says
    from segviz.train import evaluate

    assert evaluate(fresh, val_scenes, 7, device="cpu")["mean_iou"] == pytest.approx(history.best()["mean_iou"])


def test_progress_and_live_are_off_under_pytest(train_scenes, capsys):
    run(train_scenes, epochs=1)
    captured = capsys.readouterr()
    assert "step" not in captured.err and captured.out == ""


def test_progress_bar_when_asked(train_scenes, capsys):
    run(train_scenes, epochs=1, progress=True)
    assert "4/4" in capsys.readouterr().err


def test_training_does_not_import_plotly_or_ipywidgets():
    import subprocess
    import sys

    code = (
        "import sys, torch\n"
        "from segviz.train import fit\n"
        "from segviz.data import make_scenes\n"
        "s = make_scenes(4, size=16)\n"
        "fit(torch.nn.Conv2d(3, 7, 1), s, s, epochs=1, batch_size=4, device='cpu', progress=False)\n"
        "print(' '.join(sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert not {m for m in out.split() if m.split(".")[0] in {"plotly", "ipywidgets"}}


# --- bad inputs ------------------------------------------------------------------------------------

IMAGES = torch.zeros(4, 3, 16, 16)
MASKS = torch.zeros(4, 16, 16, dtype=torch.int64)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(model="fcn"), "model of type str given"),
        (dict(train_data=[1, 2, 3]), "train_data a tuple of 3 items given"),
        (dict(train_data="scenes"), "train_data a str given"),
        (dict(train_data=(IMAGES, MASKS[:3])), "4 images and 3 masks"),
        (dict(train_data=(IMAGES[:0], MASKS[:0])), "0 images given"),
        (dict(train_data=(IMAGES[0], MASKS[0])), r"shape \(3, 16, 16\)"),
        (dict(train_data=(IMAGES, MASKS.float())), "masks must be an integer"),
        (dict(train_data=(IMAGES, MASKS[:, :8])), "each mask must have its image's"),
        (dict(train_data=(IMAGES, MASKS + 9)), r"label\(s\) \[9\]; with num_classes=7"),
        (dict(val_data=(IMAGES, MASKS - 1)), r"val_data masks hold label\(s\) \[-1\]"),
        (dict(epochs=0), "epochs 0 given; epochs must be an integer >= 1"),
        (dict(batch_size=0), "batch_size 0 given"),
        (dict(lr=0), "lr 0 given; lr must be a number > 0"),
        (dict(lr=-1.0), "lr -1 given; lr must be a number > 0"),
        (dict(lr="fast"), "lr 'fast' given; lr must be a number"),
        (dict(target=0.0), r"target 0 given; a mean_iou target must be in \(0, 1\]"),
        (dict(target=1.5), "target 1.5 given; target must be a number between 0 and 1"),
        (dict(target=0.5, val_data=None), "target 0.5 given without val_data"),
        (dict(target_metric="iou"), "target_metric 'iou' given"),
        (dict(time_limit=0), "time_limit 0 given"),
        (dict(eval_every=0), "eval_every 0 given"),
        (dict(optimizer="adam"), "optimizer of type str given"),
        (dict(scheduler="step"), "scheduler 'step' given; scheduler must be one of 'onecycle', 'cosine'"),
        (dict(loss="ce"), "loss of type str given"),
        (dict(num_classes=5), "model output 7 channels with num_classes=5"),
        (dict(device="gpu"), "device 'gpu' given"),
        (dict(progress="yes"), "progress 'yes' given"),
        (dict(checkpoint=3), "checkpoint of type int given"),
    ],
)
def test_bad_input_raises_a_teaching_error(kwargs, message):
    args = {"model": tiny_model(), "train_data": (IMAGES, MASKS), "val_data": (IMAGES, MASKS), "epochs": 1,
            "batch_size": 2, "device": "cpu"} | kwargs
    with pytest.raises(ValueError, match=message):
        fit(args.pop("model"), args.pop("train_data"), args.pop("val_data"), **args)


def test_model_with_the_wrong_output_size_is_explained():
    with pytest.raises(ValueError, match=r"model output of size \(8, 8\) for masks of size \(16, 16\)"):
        fit(nn.Conv2d(3, 7, 2, stride=2), (IMAGES, MASKS), epochs=1, device="cpu")


def test_dataset_yielding_single_tensors_is_refused():
    class Images(torch.utils.data.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return torch.zeros(3, 8, 8)

    with pytest.raises(ValueError, match="items must be \\(image, mask\\) pairs"):
        fit(tiny_model(), Images(), epochs=1, device="cpu")


def test_named_schedules_follow_the_clock_when_time_runs_out_first():
    from segviz.train.loop import _NamedSchedule, schedule_factor

    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    by_steps = _NamedSchedule("cosine", optimizer, total_steps=11, time_limit=None)
    by_steps.before_step(step=5, seconds=123.0)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.5)  # half of the steps, the clock ignored
    optimizer.param_groups[0]["lr"] = 1.0
    by_time = _NamedSchedule("cosine", optimizer, total_steps=1000, time_limit=10.0)
    by_time.before_step(step=10, seconds=5.0)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(0.5)  # half of the time, few of the steps
    assert schedule_factor("onecycle", 0.0) == pytest.approx(1 / 25)
    assert schedule_factor("onecycle", 0.25) == pytest.approx(1.0)
    assert schedule_factor("onecycle", 1.0) < 1e-5 and schedule_factor("cosine", 1.0) == 0.0
