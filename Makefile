# Every target runs inside .venv, created from requirements.txt on first use.
# Needs Python 3.11 and make; slides, html and test also need npm (node_modules from package-lock.json).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NOTEBOOK := linear_regression_training_loops.ipynb
INSTALLED := $(VENV)/.installed

ASSETS := node_modules/.installed
# Local copies of reveal.js, require.js, jQuery, MathJax and Font Awesome, so pages work offline.
NBCONVERT := $(BIN)/jupyter nbconvert --config templates/nbconvert_config.py --output-dir build
OLDEST := .venv-oldest
OLDEST_INSTALLED := $(OLDEST)/.installed

.PHONY: notebook run test test-oldest lint html slides bench clean

JUPYTER_ARGS ?=

notebook: $(INSTALLED)  ## open the notebook in Jupyter; options in JUPYTER_ARGS, e.g. --allow-root --no-browser
	$(BIN)/jupyter notebook $(JUPYTER_ARGS) $(NOTEBOOK)

# run: the second nbconvert pass stores each cell's output in one piece (the kernel may flush a print in two)
run: $(INSTALLED)  ## re-execute the notebook in place, refreshing its outputs and images/
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.record_timing=False \
		'--ExecutePreprocessor.extra_arguments=["--IPKernelApp.capture_fd_output=False"]' \
		$(NOTEBOOK)
	$(BIN)/jupyter nbconvert --to notebook --inplace --CoalesceStreamsPreprocessor.enabled=True $(NOTEBOOK)

test: $(INSTALLED) $(ASSETS)  ## lint, then re-run the notebook against its stored outputs, then the other tests
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

test-oldest: $(OLDEST_INSTALLED)  ## run every assert of the notebook (papermill) on the oldest supported TensorFlow and Keras
	mkdir -p build
	$(OLDEST)/bin/papermill --no-progress-bar -k python3 $(NOTEBOOK) build/oldest.ipynb -p FIGURES_DIR build/oldest_images
	@$(OLDEST)/bin/python -c "import tensorflow as tf, keras; print('passed on TensorFlow', tf.__version__, 'with Keras', keras.__version__)"

$(OLDEST_INSTALLED): requirements-oldest.txt
	$(PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-oldest.txt
	touch $@

lint: $(INSTALLED)
	$(BIN)/ruff check .

$(INSTALLED): requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

clean:
	rm -rf $(VENV) $(OLDEST) node_modules .pytest_cache build

html: $(INSTALLED) $(ASSETS)  ## the rendered page nbviewer and GitHub readers see, in build/; works offline
	$(NBCONVERT) --to html $(NOTEBOOK)

slides: $(INSTALLED) $(ASSETS)  ## a reveal.js slide deck with speaker notes, in build/; works offline
	$(NBCONVERT) --to slides $(NOTEBOOK)

$(ASSETS): package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

bench: $(INSTALLED)  ## speed figures (not tests): per-step cost by data size, notebook time against the import floor
	$(BIN)/python benchmarks/step_time.py
	$(BIN)/python benchmarks/notebook_time.py
