# segviz: two commands on a fresh machine.
#   make lab    set up if needed, then open JupyterLab on the course's start page
#   make test   set up if needed, then run the whole test suite
# Both are idempotent: setup is skipped while pyproject.toml and constraints.txt are unchanged.

VENV        ?= .venv
PY          := $(VENV)/bin/python
PORT        ?= 8888
IP          ?= 127.0.0.1
JOBS        ?= 2
ROOT_FLAG   := $(shell [ "$$(id -u)" = 0 ] && echo --allow-root)
PYTEST_ARGS ?=

.PHONY: setup lab test test-fast browser-deps doctor bench lock clean

setup:
	@SEGVIZ_VENV=$(VENV) bash scripts/setup_env.sh

browser-deps:
	@bash scripts/install_chromium.sh

lab: setup
	$(VENV)/bin/jupyter lab --ip=$(IP) --port=$(PORT) --no-browser $(ROOT_FLAG) \
	  --ServerApp.root_dir="$(CURDIR)" --LabApp.default_url=/lab/tree/index.ipynb

# The README's test command: unit tests, doctests, every notebook under nbval, browser test.
test: setup browser-deps
	PLOTLY_RENDERER=plotly_mimetype $(PY) -m pytest -n $(JOBS) --dist loadfile $(PYTEST_ARGS)

# Everything but the notebooks and the browser (seconds, for quick iteration).
test-fast: setup
	$(PY) -m pytest -n $(JOBS) --dist loadfile -m "not browser" --ignore-glob="*.ipynb" tests segviz $(PYTEST_ARGS)

doctor: setup
	$(VENV)/bin/segviz doctor

bench: setup
	$(PY) bench/notebooks.py

# Re-resolve the lock from pyproject's ranges (a throwaway venv) and rewrite constraints.txt.
lock:
	rm -rf .venv-lock && python3 -m venv .venv-lock && .venv-lock/bin/pip install -q "torch==2.14.1" "torchvision==0.29.1" -e ".[test]"
	{ sed -n '1,3p' constraints.txt; .venv-lock/bin/pip freeze --exclude-editable | grep -v -i '^segviz'; } > constraints.txt.new
	mv constraints.txt.new constraints.txt && rm -rf .venv-lock

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache
