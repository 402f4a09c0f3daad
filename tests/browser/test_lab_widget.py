"""segviz widgets render in a real JupyterLab and react to their sliders.

Widget logic is tested without a browser (set ``control.value``, compare the figure with the pure
function). This test proves the part those tests cannot: that the ipywidgets + plotly
``FigureWidget`` (an anywidget) front end loads in JupyterLab, draws, and repaints when the
learner drags a slider with the mouse.
"""

from __future__ import annotations

import hashlib
import re
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_NOTEBOOK = "tests/browser/fixture_widget.ipynb"
LECTURE_00 = "lectures/00_segmentation_problem.ipynb"
LECTURE_02 = "lectures/02_transposed_convolution.ipynb"
MODEL_WIDGETS = "tests/browser/fixture_model_widgets.ipynb"  # lectures 04, 06, 07's widgets, no training

RUN_ALL_TIMEOUT_S = 120.0
KERNEL_READY_TIMEOUT_MS = 60_000
WIDGET_RENDER_TIMEOUT_MS = 30_000
REACTION_TIMEOUT_S = 10.0

# Text ipywidgets / JupyterLab put in an output when a widget view cannot be created.
WIDGET_FAILURE = re.compile(
    r"Error displaying widget|Failed to load model class|Could not create a view|"
    r"Error creating widget|model not found"
)

# Defines window.__segvizFindPanel(path): the open NotebookPanel whose context path is `path`, or null.
_FIND_PANEL_JS = """
window.__segvizFindPanel = (path) => {
  const app = window.jupyterapp;
  if (!app) return null;
  for (const widget of app.shell.widgets('main')) {
    if (widget.context && widget.context.path === path && widget.content && widget.sessionContext) {
      return widget;
    }
  }
  return null;
};
"""

_KERNEL_IDLE_JS = """
(path) => {
  const panel = window.__segvizFindPanel && window.__segvizFindPanel(path);
  if (!panel || !panel.context.isReady || !panel.sessionContext.isReady) return false;
  const session = panel.sessionContext.session;
  return !!(session && session.kernel && session.kernel.status === 'idle');
}
"""

_RUN_ALL_JS = """
(path) => {
  const app = window.jupyterapp;
  const panel = window.__segvizFindPanel(path);
  const command = 'notebook:run-all-cells';
  if (!app.commands.hasCommand(command)) return `command ${command} is not registered`;
  app.shell.activateById(panel.id);
  window.__segvizRunAllError = null;
  app.commands.execute(command).catch((error) => { window.__segvizRunAllError = String(error); });
  return null;
}
"""

# One snapshot of the run: per non-empty code cell its model execution count and DOM prompt,
# error outputs (model and DOM), kernel status.
_RUN_STATE_JS = """
(path) => {
  const panel = window.__segvizFindPanel(path);
  if (!panel) return {missing: true};
  const cells = [];
  const modelErrors = [];
  panel.content.widgets.forEach((cell, index) => {
    if (cell.model.type !== 'code') return;
    for (const output of cell.model.outputs.toJSON()) {
      if (output.output_type === 'error') {
        modelErrors.push(`cell ${index}: ${output.ename}: ${output.evalue}`);
      }
    }
    if (cell.model.sharedModel.getSource().trim() === '') return;  // never gets a count
    const prompt = cell.node.querySelector('.jp-InputPrompt');
    cells.push({
      index,
      count: cell.model.executionCount,
      prompt: prompt ? prompt.textContent.trim() : null,
    });
  });
  const domErrors = Array.from(panel.node.querySelectorAll(
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.error"]'
  )).map((node) => node.innerText);
  const session = panel.sessionContext.session;
  return {
    missing: false,
    cells,
    modelErrors,
    domErrors,
    status: session && session.kernel ? session.kernel.status : null,
    runAllError: window.__segvizRunAllError,
  };
}
"""

# What the figure looks like on screen: the layout shapes and the traces' marks as drawn (SVG
# attributes and text) and the heatmap/image bitmaps. A repaint after a slider change alters at
# least one of them. Widgets draw with shapes (SlidingWindowExplorer) or, for speed, with traces
# only (TransposedConvExplorer), so both count.
_PLOT_DRAWN = ".shapelayer path, .shapelayer rect, .scatterlayer .trace, .heatmaplayer image, .imagelayer image"
_FIGURE_FINGERPRINT_JS = """
(root) => {
  const plot = root.querySelector('.js-plotly-plot');
  if (!plot) return null;
  const attrs = ['d', 'x', 'y', 'width', 'height', 'transform'];
  const draw = (selector) => Array.from(plot.querySelectorAll(selector)).map(
    (node) => attrs.map((a) => node.getAttribute(a)).filter((v) => v !== null).join(' ') + (node.textContent || ''));
  const shapes = draw('.shapelayer path, .shapelayer rect');
  const marks = draw('.scatterlayer .trace path, .scatterlayer .trace text');
  const images = Array.from(plot.querySelectorAll('.heatmaplayer image, .imagelayer image')).map(
    (node) => node.getAttribute('href') || node.getAttribute('xlink:href') || '');
  return {shapes, marks, images};
}
"""


def _ready_prompt(text: str | None) -> bool:
    """``[12]:`` is done; ``[*]:`` is running, ``[ ]:`` never ran (or is queued)."""
    return bool(text) and re.fullmatch(r"\[\s*\d+\s*\]:?", text) is not None


def open_and_run(page, lab, notebook_relpath: str) -> None:
    """Open a fresh copy of ``notebook_relpath`` in JupyterLab, run all cells, check for errors.

    Waits for the kernel to be idle, executes ``notebook:run-all-cells`` through
    ``window.jupyterapp.commands``, then waits (up to ``RUN_ALL_TIMEOUT_S``) until every non-empty
    code cell shows an execution count and the kernel is idle again. Fails with the text of every
    error output (stderr outputs such as warnings are allowed).
    """
    lab.add_notebook(notebook_relpath)
    # `reset` starts from an empty workspace, so notebooks opened by earlier tests stay closed.
    page.goto(lab.url(f"lab/tree/{notebook_relpath}", query="reset"))
    page.wait_for_function("() => !!(window.jupyterapp && window.jupyterapp.shell)")
    page.evaluate(_FIND_PANEL_JS)
    page.wait_for_function(_KERNEL_IDLE_JS, arg=notebook_relpath, timeout=KERNEL_READY_TIMEOUT_MS)

    problem = page.evaluate(_RUN_ALL_JS, notebook_relpath)
    assert problem is None, problem

    deadline = time.monotonic() + RUN_ALL_TIMEOUT_S
    state: dict = {}
    while True:
        state = page.evaluate(_RUN_STATE_JS, notebook_relpath)
        assert not state["missing"], f"notebook panel for {notebook_relpath} disappeared"
        assert state["runAllError"] is None, f"run-all-cells failed: {state['runAllError']}"
        idle = state["status"] == "idle"
        errors = state["domErrors"] or state["modelErrors"]
        if idle and errors:  # run-all stops at the first error; the rest would stay `[ ]`
            break
        done = all(c["count"] is not None and _ready_prompt(c["prompt"]) for c in state["cells"])
        if idle and done:
            break
        if time.monotonic() > deadline:
            pending = [c for c in state["cells"] if not _ready_prompt(c["prompt"])]
            pytest.fail(
                f"{notebook_relpath} did not finish within {RUN_ALL_TIMEOUT_S:.0f} s: kernel "
                f"{state['status']!r}, cells not done (index, prompt): "
                f"{[(c['index'], c['prompt']) for c in pending]}"
            )
        page.wait_for_timeout(250)

    errors = state["domErrors"] or state["modelErrors"]
    assert not errors, f"{notebook_relpath} raised in JupyterLab:\n" + "\n---\n".join(errors)


def _widget_failures(page) -> list[str]:
    texts = page.locator(".jp-OutputArea-output").all_inner_texts()
    return [text for text in texts if WIDGET_FAILURE.search(text)]


def _fingerprint(root) -> dict | None:
    raw = root.evaluate(_FIGURE_FINGERPRINT_JS)
    if raw is None:
        return None
    # Heatmap bitmaps are data URLs (kilobytes): compare digests, keep messages short.
    raw["images"] = [hashlib.sha1(href.encode()).hexdigest()[:12] for href in raw["images"]]
    raw["marks"] = hashlib.sha1("\n".join(raw["marks"]).encode()).hexdigest()[:12] if raw["marks"] else ""
    return raw


# (notebook, which widget, slider description, what the label must say for the slider's value v)
CASES = [
    pytest.param(FIXTURE_NOTEBOOK, ".segviz-widget", "window", "window {v}×{v}", id="fixture"),
    pytest.param(LECTURE_00, ".segviz-SlidingWindowExplorer", "window", "window {v}×{v}", id="lecture00"),
    pytest.param(LECTURE_02, ".segviz-TransposedConvExplorer", "stride", "stride {v}", id="lecture02-transposed-conv"),
    pytest.param(MODEL_WIDGETS, ".segviz-ASPPExplorer", "input size", "{v}×{v} input", id="aspp"),
    pytest.param(MODEL_WIDGETS, ".segviz-LossExplorer", "ENet c in 1/ln(c + p)", "c = {v}", id="losses"),
    pytest.param(MODEL_WIDGETS, ".segviz-FCNSkipExplorer", "image", "image {v}", id="fcn-skips"),
]


@pytest.mark.parametrize(("notebook", "widget", "slider_description", "label_says"), CASES)
def test_widget_renders_and_follows_slider(
    page, lab_server, artifact_path, notebook, widget, slider_description, label_says
):
    from playwright.sync_api import expect

    open_and_run(page, lab_server, notebook)

    label_pattern = re.compile(rf"^\s*{re.escape(slider_description)}\s*$")
    slider = page.locator(".widget-slider").filter(
        has=page.locator(".widget-label", has_text=label_pattern)
    )
    root = page.locator(widget).filter(has=slider).first
    try:
        expect(root).to_be_visible(timeout=WIDGET_RENDER_TIMEOUT_MS)
    except AssertionError as error:
        raise AssertionError(
            f"no visible {widget} with a slider described {slider_description!r}; "
            f"widget errors in outputs: {_widget_failures(page)}"
        ) from error
    slider = root.locator(".widget-slider").filter(
        has=page.locator(".widget-label", has_text=label_pattern)
    )
    expect(slider).to_have_count(1)
    handle = slider.locator(".noUi-handle")
    label = root.locator(".segviz-label")
    plot = root.locator(".js-plotly-plot")
    root.scroll_into_view_if_needed()
    for part, name in ((plot, "plotly figure"), (handle, "slider handle"), (label, "label")):
        try:
            expect(part).to_be_visible(timeout=WIDGET_RENDER_TIMEOUT_MS)
        except AssertionError as error:
            raise AssertionError(
                f"{name} not visible in the widget; widget errors in outputs: {_widget_failures(page)}"
            ) from error
    # The FigureWidget view attaches before plotly has drawn: wait for shapes or trace marks.
    expect(plot.locator(_PLOT_DRAWN).first).to_be_attached(
        timeout=WIDGET_RENDER_TIMEOUT_MS
    )
    root.scroll_into_view_if_needed()

    label_before = label.inner_text()
    figure_before = _fingerprint(root)
    assert label_before.strip(), "the label is empty before any interaction"
    assert figure_before and (figure_before["shapes"] or figure_before["marks"] or figure_before["images"]), (
        f"nothing drawn in the figure: {figure_before}"
    )
    page.screenshot(path=artifact_path("before.png"))

    # Mouse drag (Notebook 7 swallows arrow keys on a focused slider). Drag right unless the
    # handle already sits at its maximum. A widget taller than the window (LossExplorer) can
    # leave the slider above it: the mouse only reaches what is on screen.
    handle.scroll_into_view_if_needed()
    track = slider.locator(".noUi-target").bounding_box()
    box = handle.bounding_box()
    assert track and box, "slider has no layout box"
    at_max = handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax")
    dx = max(40.0, 0.3 * track["width"]) * (-1 if at_max else 1)
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + dx, y, steps=10)
    page.mouse.up()

    # Both must change; then wait for the kernel to go idle and the widget to stop moving, so the
    # screenshot shows the final state rather than one of the intermediate values of the drag.
    deadline = time.monotonic() + REACTION_TIMEOUT_S
    previous = None
    while True:
        label_after, figure_after = label.inner_text(), _fingerprint(root)
        changed = label_after != label_before and figure_after != figure_before
        settled = (label_after, figure_after) == previous and page.evaluate(_KERNEL_IDLE_JS, notebook)
        if (changed and settled) or time.monotonic() > deadline:
            break
        previous = (label_after, figure_after)
        page.wait_for_timeout(150)
    page.screenshot(path=artifact_path("after.png"))

    readout = slider.locator(".widget-readout").inner_text()
    assert label_after != label_before, (
        f"label text did not change within {REACTION_TIMEOUT_S:.0f} s of dragging the "
        f"{slider_description!r} slider by {dx:+.0f} px (readout now {readout!r}): {label_before!r}"
    )
    assert figure_after != figure_before, (
        f"figure did not repaint within {REACTION_TIMEOUT_S:.0f} s of dragging the "
        f"{slider_description!r} slider (readout now {readout!r}); before {figure_before}, "
        f"after {figure_after}"
    )
    expected = label_says.format(v=readout.strip())
    assert expected in label_after, f"the label does not describe the slider's value {readout!r}: {label_after!r}"
