#!/usr/bin/env python
"""How long a segviz widget takes to answer a control: in the kernel, and in JupyterLab in Chromium.

    python bench/widgets.py                     # every Explorer, then the browser measurements
    python bench/widgets.py --no-browser        # kernel only (no JupyterLab, no Chromium)
    python bench/widgets.py --samples 60 --variants overlay replot

Kernel: every ``Explorer`` subclass exported by ``segviz.widgets`` (so widgets added later are
measured too) is built with its default arguments, and a few with larger settings
(``EXTRA_SETTINGS``); each control is moved through all its values (up to the maximum, down to the
minimum, back to where it was), and each move is timed with ``time.perf_counter`` around
``control.value = …``. The shell's update runs synchronously in the observer, so that is the time
from a control change to the figure updated in the kernel (computing, diffing, serialising the
plotly message). Target: median ≤ 16 ms per widget.

Browser: JupyterLab (a throw-away server on 127.0.0.1 serving a temporary folder, never the
repository; the approach of ``tests/browser/conftest.py``, whose helpers it loads) and the system
Chromium through Python playwright show ``TransposedConvExplorer`` at a 16×16 output (input 7,
kernel 4, stride 2). A slider's handle is focused and ArrowRight / ArrowLeft are pressed in turn
(arrow keys on a focused noUiSlider handle do move it in JupyterLab); a ``MutationObserver`` in
the page records ``performance.now()`` when the plot's heatmap or image layer changes, and the
latency is that time minus the keydown event's timestamp: keypress → slider → websocket → kernel →
plotly message → plotly.js → DOM. "painted" is two animation frames later. Target: median ≤ 100 ms.
Besides the widget as shipped (``overlay``), ``--variants`` measures the designs it replaced:
``replot`` (the same figure, updated the way FigureWidget does by default, which makes plotly.js
redraw everything), ``scatter`` (heatmaps and a ``Scatter(mode="text")`` trace of numbers per
grid) and ``texttemplate`` (the heatmaps' own numbers). Screenshots of each widget after its
keypresses go to ``test-artifacts/bench/``.

A measurement, not a test: the machine is shared and noisy, so nothing here fails because it is
slow.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
KERNEL_TARGET_MS = 16.0
BROWSER_TARGET_MS = 100.0

# --- kernel ----------------------------------------------------------------------------------------


def explorer_classes() -> list[type]:
    """Every ``Explorer`` subclass that ``segviz.widgets`` exports, by name."""
    import segviz.widgets as package
    from segviz.widgets.base import Explorer

    found = {getattr(package, name) for name in package.__all__}
    return sorted((cls for cls in found if isinstance(cls, type) and issubclass(cls, Explorer) and cls is not Explorer),
                  key=lambda cls: cls.__name__)


def control_values(control) -> list | None:
    """The values a control can take, in order (``None`` for a control that is not a choice)."""
    if hasattr(control, "options") and control.options:
        labels = list(getattr(control, "_options_values", None) or control.options)
        return [value[1] if isinstance(value, tuple) else value for value in labels]
    if all(hasattr(control, name) for name in ("min", "max", "step")) and not isinstance(control.value, tuple):
        step = control.step or 1
        count = int(round((control.max - control.min) / step)) + 1
        return [control.min + i * step for i in range(count)]
    return None


def sweep(values: list, start) -> list:
    """Up to the last value, down to the first, back to ``start``."""
    i = values.index(start) if start in values else 0
    return values[i + 1 :] + values[::-1][1:] + values[1 : i + 1]


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


# Settings measured besides the defaults (the class name, its keyword arguments).
EXTRA_SETTINGS = [
    ("TransposedConvExplorer", dict(input_size=7, kernel_size=4, stride=2, padding=0, output_padding=0)),  # 16×16
    ("TransposedConvExplorer", dict(input_size=8, kernel_size=7, stride=4, padding=3, output_padding=3)),  # 50×50 canvas
    ("ConvMatrixExplorer", dict(mode="2D", input_size=8, kernel_size=2)),  # W is 49×64
]


def measure_controls(widget, repeats: int) -> list[tuple[str, list[float], int]]:
    """Sweep every control of ``widget``; per control: its name, the times (ms), how many were refused."""
    rows = []
    for name, control in widget.controls.items():
        values = control_values(control)
        if values is None or len(values) < 2:
            continue
        original, samples, refused = control.value, [], 0
        for _ in range(repeats):
            for value in sweep(values, control.value):
                if value not in control_values(control):  # a range that follows other controls
                    continue
                tick = time.perf_counter()
                control.value = value
                samples.append(1e3 * (time.perf_counter() - tick))
                refused += bool(widget.message.value)
        control.value = original
        rows.append((name, samples, refused))
    return rows


def kernel_bench(repeats: int) -> None:
    print("## kernel: control change → figure updated (ms), each control swept through all its values")
    classes = {cls.__name__: cls for cls in explorer_classes()}
    runs = [(name, {}) for name in classes] + [(name, kwargs) for name, kwargs in EXTRA_SETTINGS if name in classes]
    for name, kwargs in runs:
        start = time.perf_counter()
        try:
            widget = classes[name](**kwargs)
        except Exception as error:  # report and go on with the next widget
            print(f"{name}({kwargs or ''}): could not be built with these arguments: {type(error).__name__}: {error}")
            continue
        built = time.perf_counter() - start
        figure = widget.figure
        rows = measure_controls(widget, repeats)
        every = [t for _, samples, _ in rows for t in samples]
        if not every:
            print(f"{name}: no control to move")
            continue
        assert widget.figure is figure, f"{name} rebuilt its figure"
        verdict = "ok" if statistics.median(every) <= KERNEL_TARGET_MS else f"OVER {KERNEL_TARGET_MS:.0f} ms"
        settings = ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) or "defaults"
        print(f"{name} ({settings}): median {statistics.median(every):6.2f}  p90 {percentile(every, 90):6.2f}  "
              f"max {max(every):6.1f}  n={len(every)}  (built in {built:.2f} s)  {verdict}")
        for control, samples, refused in rows:
            note = f"  ({refused} refused with a message)" if refused else ""
            print(f"    {control:16s} median {statistics.median(samples):6.2f}  p90 {percentile(samples, 90):6.2f}  "
                  f"n={len(samples)}{note}")


# --- browser ---------------------------------------------------------------------------------------

# The notebook cell per design alternative. "overlay" is the widget as shipped; the others are the
# same data drawn the ways that were measured before it (a comparison, so kept minimal here).
WIDGET_SOURCE = """\
from segviz.widgets.transposed_conv import TransposedConvExplorer
{patch}
widget = TransposedConvExplorer(7, 4, 2, 0, 0, step=24)  # a 16×16 output
assert widget.result.output.shape == (16, 16)
widget
"""
REPLOT_PATCH = """\
import segviz.viz.conv_matrix as grid  # send the overlays as a plain relayout: the browser replots everything
grid._swap_overlays = lambda fig, sources: fig.plotly_relayout(sources)
"""
PLAIN_SOURCE = """\
import ipywidgets as widgets
import plotly.graph_objects as go
from segviz.viz.transposed_conv import compute_transposed_conv

NUMBERS = {numbers!r}  # "scatter": one Scatter(mode="text") trace per grid; "texttemplate": the heatmap's own
view = compute_transposed_conv(7, 4, 2, 0, 0, step=24)
grids = [(view.x, "x", "y"), (view.kernel, "x2", "y2"), (view.partial, "x3", "y3"), (view.counts, "x4", "y4")]
figure = go.FigureWidget()
for values, xref, yref in grids:
    rows, cols = values.shape
    figure.add_heatmap(z=values.tolist(), xaxis=xref, yaxis=yref, xgap=1, ygap=1, showscale=False,
                       colorscale="Blues", texttemplate="%{{z}}" if NUMBERS == "texttemplate" else None)
    figure.add_scatter(x=[j for i in range(rows) for j in range(cols)], y=[i for i in range(rows) for j in range(cols)],
                       text=[str(v) for v in values.reshape(-1).tolist()], mode="text", xaxis=xref, yaxis=yref,
                       visible=NUMBERS == "scatter", hoverinfo="skip")
domains = [([0, 0.17], [0.65, 1]), ([0, 0.17], [0, 0.35]), ([0.22, 0.68], [0, 1]), ([0.73, 1], [0.5, 1])]
for k, (dx, dy) in enumerate(domains, start=1):
    s = "" if k == 1 else str(k)
    n = grids[k - 1][0].shape[0]
    figure.layout["xaxis" + s] = dict(domain=dx, range=[-0.5, n - 0.5], anchor="y" + s, showgrid=False, zeroline=False)
    figure.layout["yaxis" + s] = dict(domain=dy, range=[n - 0.5, -0.5], anchor="x" + s, showgrid=False, zeroline=False)
figure.add_shape(type="rect", xref="x3", yref="y3", x0=-0.5, y0=-0.5, x1=3.5, y1=3.5, line=dict(color="red", width=3))
figure.update_layout(width=1060, height=560, showlegend=False, margin=dict(l=20, r=20, t=20, b=20))
step = widgets.IntSlider(value=24, min=0, max=49, description="step")
label = widgets.HTML().add_class("segviz-label")

def update(change=None):
    v = compute_transposed_conv(7, 4, 2, 0, 0, step=step.value)
    (r, q) = v.corner or (0, 0)
    with figure.batch_update():
        figure.data[4].z = v.partial.tolist()
        figure.data[5].text = [str(a) if a else "" for a in v.partial.reshape(-1).tolist()]
        figure.layout.shapes[0].update(x0=q - 0.5, y0=r - 0.5, x1=q + v.span - 0.5, y1=r + v.span - 0.5)
    label.value = f"step {{step.value}}"

step.observe(update, names="value")
widgets.VBox([step, label, figure]).add_class("segviz-widget")
"""


def notebook_source(variant: str) -> str:
    if variant == "overlay":
        return WIDGET_SOURCE.format(patch="")
    if variant == "replot":
        return WIDGET_SOURCE.format(patch=REPLOT_PATCH)
    return PLAIN_SOURCE.format(numbers=variant)


VARIANTS = {
    "overlay": "as shipped: heatmaps + SVG overlay images; a step swaps two overlays (animate frame, no redraw)",
    "replot": "as shipped, but the overlays sent as a plain relayout (plotly.js replots the whole figure)",
    "scatter": "first design: heatmaps + one Scatter(mode='text') trace per grid, updated by batch_update",
    "texttemplate": "heatmaps with texttemplate numbers, updated by batch_update",
}

# Record, in the page, keydown timestamps and the times the plot's traces change in the DOM.
_INSTRUMENT_JS = """
(root) => {
  const plot = root.querySelector('.js-plotly-plot');
  window.__keys = [];
  window.__mutations = [];
  window.addEventListener('keydown', (event) => window.__keys.push(event.timeStamp), true);
  window.__frames = [];
  const observer = new MutationObserver((records) => {
    const now = performance.now();
    if (records.some((r) => r.target.closest && r.target.closest('.cartesianlayer, .imagelayer'))) {
      window.__mutations.push(now);
      // two animation frames later the change has been painted
      requestAnimationFrame(() => requestAnimationFrame(() => window.__frames.push([now, performance.now()])));
    }
  });
  observer.observe(plot, {subtree: true, childList: true, attributes: true, characterData: true});
  return !!plot;
}
"""

_KERNEL_IDLE_JS = """
() => {
  const app = window.jupyterapp;
  for (const widget of app.shell.widgets('main')) {
    if (widget.sessionContext && widget.sessionContext.session && widget.sessionContext.session.kernel) {
      return widget.sessionContext.session.kernel.status === 'idle';
    }
  }
  return false;
}
"""


def _conftest():
    """The browser tests' helpers (settings, server checks, process clean-up), loaded by path."""
    name = "segviz_browser_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests/browser/conftest.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses look their module up while it executes
        spec.loader.exec_module(module)
    return sys.modules[name]


class Lab:
    """A throw-away JupyterLab serving ``base/root`` (the tests' approach: everything in ``base``)."""

    def __init__(self, base: Path):
        helpers = _conftest()
        self.helpers = helpers
        self.root = base / "root"
        dirs = {name: base / name for name in ("config", "runtime", "data", "settings", "workspaces", "ipython")}
        for path in (self.root, *dirs.values()):
            path.mkdir(parents=True, exist_ok=True)
        helpers._write_lab_settings(dirs["settings"])
        env = dict(os.environ)
        env.update(
            JUPYTER_CONFIG_DIR=str(dirs["config"]), JUPYTER_RUNTIME_DIR=str(dirs["runtime"]),
            JUPYTER_DATA_DIR=str(dirs["data"]), JUPYTERLAB_SETTINGS_DIR=str(dirs["settings"]),
            JUPYTERLAB_WORKSPACES_DIR=str(dirs["workspaces"]), JUPYTER_PREFER_ENV_PATH="1",
            PATH=os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
            PYTHONUNBUFFERED="1", IPYTHONDIR=str(dirs["ipython"]), OMP_NUM_THREADS="1",
            PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")])),
        )
        env.pop("JUPYTER_PATH", None)
        env.pop("JUPYTER_TOKEN", None)
        self.token = secrets.token_hex(24)
        port = helpers._free_port()
        command = [
            sys.executable, "-m", "jupyter", "lab", "--allow-root", f"--IdentityProvider.token={self.token}",
            "--LabApp.expose_app_in_browser=True", "--ServerApp.open_browser=False", "--ip=127.0.0.1",
            f"--port={port}", "--ServerApp.port_retries=0", f"--ServerApp.root_dir={self.root}",
            f"--LabApp.user_settings_dir={dirs['settings']}", f"--LabApp.workspaces_dir={dirs['workspaces']}",
            "--ServerApp.terminals_enabled=False",
        ]  # fmt: skip
        log_path = base / "jupyter-server.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, cwd=self.root, env=env, stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL)
        self.server = helpers.LabServer(base_url=f"http://127.0.0.1:{port}/", token=self.token, root=self.root,
                                        log_path=log_path, process=process)
        try:
            helpers._wait_until_up(self.server, helpers.SERVER_START_TIMEOUT_S)
        except BaseException:
            self.close()
            raise

    def add_notebook(self, name: str, source: str) -> str:
        cell = {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": source}
        notebook = {"cells": [cell], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                 "language": "python"}},
                    "nbformat": 4, "nbformat_minor": 5}
        (self.root / name).write_text(json.dumps(notebook))
        return name

    def close(self) -> None:
        self.helpers._terminate_tree(self.server.process)


def measure_variant(page, lab: Lab, variant: str, samples: int, pause_ms: int, slider_name: str = "step",
                    screenshot: Path | None = None) -> dict:
    """Open a fresh notebook with the widget, press arrow keys on a slider, return the latencies (ms)."""
    name = lab.add_notebook(f"bench_{variant}.ipynb", notebook_source(variant))
    page.goto(lab.server.url(f"lab/tree/{name}", query="reset"))
    page.wait_for_function("() => !!(window.jupyterapp && window.jupyterapp.shell)")
    page.wait_for_function(_KERNEL_IDLE_JS, timeout=90_000)
    page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
    root = page.locator(".segviz-widget").first
    root.wait_for(state="visible", timeout=120_000)
    root.locator(".js-plotly-plot .cartesianlayer").first.wait_for(state="attached", timeout=60_000)
    page.wait_for_function(_KERNEL_IDLE_JS, timeout=60_000)
    label = re.compile(rf"^\s*{re.escape(slider_name)}\s*$")
    slider = root.locator(".widget-slider").filter(has=page.locator(".widget-label", has_text=label))
    handle = slider.locator(".noUi-handle").first
    root.scroll_into_view_if_needed()
    page.wait_for_timeout(1500)  # let the first draw and its messages settle
    assert root.evaluate(_INSTRUMENT_JS), "no plotly figure in the widget"
    handle.focus()
    readout = slider.locator(".widget-readout")
    start_value = readout.inner_text().strip()

    latencies: list[float] = []
    painted: list[float] = []
    missed = 0
    for i in range(samples + 2):  # the first two are warm-up
        key = "ArrowRight" if i % 2 == 0 else "ArrowLeft"
        before_keys = page.evaluate("() => window.__keys.length")
        page.keyboard.press(key)
        deadline = time.monotonic() + 5
        result = None
        while time.monotonic() < deadline:
            result = page.evaluate(
                "(n) => { const k = window.__keys[n]; if (k === undefined) return null;"
                " const m = window.__mutations.find((t) => t > k); if (m === undefined) return null;"
                " const f = window.__frames.find((p) => p[0] === m); return [m - k, f ? f[1] - k : null]; }",
                before_keys,
            )
            if result is not None and result[1] is None:  # mutation seen, its frame not painted yet
                page.wait_for_timeout(10)
                continue
            if result is not None:
                break
            page.wait_for_timeout(10)
        page.wait_for_timeout(pause_ms)  # the kernel goes idle and the plot stops moving
        if i == 0:
            moved = readout.inner_text().strip()
        if i < 2:
            continue
        if result is None or result[1] is None:
            missed += 1
        else:
            latencies.append(result[0])
            painted.append(result[1])
    if screenshot is not None:
        root.screenshot(path=str(screenshot))
    return {"variant": variant, "latencies": latencies, "painted": painted, "missed": missed,
            "readout": (start_value, moved)}


def browser_bench(samples: int, variants: list[str], pause_ms: int) -> None:
    print(f"\n## browser: arrow key on a focused slider handle → plot changed in the DOM (ms), and → painted "
          f"(two animation frames later); TransposedConvExplorer at a 16×16 output, {samples} keypresses each")
    from playwright.sync_api import sync_playwright

    helpers = _conftest()
    if not helpers.CHROMIUM_PATH.exists():
        print(f"skipped: no Chromium at {helpers.CHROMIUM_PATH}")
        return
    shots = ROOT / "test-artifacts" / "bench"
    shots.mkdir(parents=True, exist_ok=True)
    runs = [(variant, "step") for variant in variants] + ([("overlay", "padding")] if "overlay" in variants else [])
    base = Path(tempfile.mkdtemp(prefix="segviz-bench-"))
    lab = Lab(base)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(helpers.CHROMIUM_PATH), args=helpers.CHROMIUM_ARGS)
            try:
                for variant, slider in runs:
                    context = browser.new_context(viewport=helpers.VIEWPORT)
                    context.set_default_timeout(60_000)
                    page = context.new_page()
                    try:
                        result = measure_variant(page, lab, variant, samples, pause_ms, slider,
                                                 shots / f"widgets-{variant}-{slider}.png")
                    finally:
                        context.close()
                    values, painted = result["latencies"], result["painted"]
                    name = f"{variant} / {slider}"
                    if not values:
                        before, after = result["readout"]
                        why = "the plot did not change" if before != after else "the arrow key did not move the slider"
                        print(f"{name:22s} no figure update seen after any keypress (first press: readout "
                              f"{before} → {after}): {why}")
                        continue
                    verdict = "ok" if statistics.median(values) <= BROWSER_TARGET_MS else f"OVER {BROWSER_TARGET_MS:.0f} ms"
                    print(f"{name:22s} DOM median {statistics.median(values):6.1f}  p90 {percentile(values, 90):6.1f}  "
                          f"| painted median {statistics.median(painted):6.1f}  p90 {percentile(painted, 90):6.1f}  "
                          f"| n={len(values)} missed={result['missed']}  {verdict}")
            finally:
                browser.close()
    finally:
        lab.close()
        shutil.rmtree(base, ignore_errors=True)
    print(f"(screenshots of the widgets after the keypresses: {shots.relative_to(ROOT)}/)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-browser", action="store_true", help="measure in the kernel only")
    parser.add_argument("--repeats", type=int, default=1, help="sweeps per control in the kernel")
    parser.add_argument("--samples", type=int, default=40, help="keypresses measured per browser variant")
    parser.add_argument("--pause-ms", type=int, default=350, help="wait after each keypress")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS),
                        help="; ".join(f"{name}: {text}" for name, text in VARIANTS.items()))
    args = parser.parse_args(argv)
    print(f"# {platform.node()} | {os.cpu_count()} cores | Python {platform.python_version()} | "
          f"load {os.getloadavg()[0]:.1f}")
    kernel_bench(args.repeats)
    if not args.no_browser:
        browser_bench(args.samples, args.variants, args.pause_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
