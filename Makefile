# Every target runs inside .venv, created from requirements.txt on first use.
# Needs Python 3.11, 3.12 or 3.13 and make; slides, html and test also need npm (node_modules from package-lock.json).

# The Pythons the pinned TensorFlow 2.21 has wheels for, and those of the oldest supported TensorFlow, 2.16.
PYTHONS := 3.11 3.12 3.13
OLDEST_PYTHONS := 3.11 3.12
CANDIDATES := python3.13 python3.12 python3.11 python3
is_one_of = $(shell $(1) -c 'import sys; sys.exit("%d.%d" % sys.version_info[:2] not in "$(2)".split())' \
	>/dev/null 2>&1 && echo $(1))
first_of = $(firstword $(foreach candidate,$(CANDIDATES),$(call is_one_of,$(candidate),$(1))))
# The interpreter given (make notebook PYTHON=/path/to/python3.12), or the first supported one on PATH.
PYTHON ?= $(call first_of,$(PYTHONS))
OLDEST_PYTHON ?= $(call first_of,$(OLDEST_PYTHONS))
# $(call require_python,VARIABLE,VERSIONS): stop, before anything is created, unless $(VARIABLE) is one of VERSIONS.
require_python = @version=$$($($(1)) -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null); \
	case " $(2) " in *" $$version "*) ;; *) \
	echo "This needs Python $(firstword $(2)) to $(lastword $(2)), the versions its pinned TensorFlow has wheels for;" \
	"$(if $($(1)),$(1)=$($(1)) is $${version:+Python }$${version:-not a Python that runs},none of $(CANDIDATES) on PATH is one)." >&2; \
	echo "Install one (pyenv install $(lastword $(2)), uv python install $(lastword $(2)), your system's" \
	"python$(lastword $(2)) package, or python.org), then run make again, naming it if it is not on PATH:" \
	"make $(or $(MAKECMDGOALS),notebook) $(1)=/path/to/python$(lastword $(2))" >&2; \
	exit 1;; esac
VENV := .venv
BIN := $(VENV)/bin
NOTEBOOK := linear_regression_training_loops.ipynb
INSTALLED := $(VENV)/.installed

ASSETS := node_modules/.installed
# Local copies of reveal.js, require.js, jQuery, MathJax and Font Awesome, so pages work offline.
NBCONVERT := $(BIN)/jupyter nbconvert --config templates/nbconvert_config.py --output-dir build
OLDEST := .venv-oldest
OLDEST_INSTALLED := $(OLDEST)/.installed

.PHONY: notebook run test quick student test-oldest test-slowest lint html slides bench clean

JUPYTER_ARGS ?=
# Jupyter refuses to run as root (containers, cloud machines) without --allow-root; on a Linux or BSD machine
# with no display there is no browser to open, so the server only prints its address.
AS_ROOT := $(if $(filter 0,$(shell id -u 2>/dev/null)),--allow-root)
NO_DISPLAY := $(shell uname 2>/dev/null | grep -qE '^(Linux|.*BSD)$$' && [ -z "$$DISPLAY$$WAYLAND_DISPLAY" ] && echo yes)
NO_BROWSER_HELP := No display here, so no browser opens. Open the http://127.0.0.1:... address with its token, \
	which Jupyter prints below, in a browser on this machine; from another machine, forward its port first \
	(for port 8888: ssh -L 8888:127.0.0.1:8888 you@this-machine) and open the same address there.

notebook: $(INSTALLED)  ## open the notebook in Jupyter; more options in JUPYTER_ARGS, e.g. --ip=0.0.0.0 --port=8890
	@$(if $(NO_DISPLAY),echo "$(NO_BROWSER_HELP)")
	$(BIN)/jupyter notebook $(AS_ROOT) $(if $(NO_DISPLAY),--no-browser) $(JUPYTER_ARGS) $(NOTEBOOK)

# run: the second nbconvert pass stores each cell's output in one piece (the kernel may flush a print in two)
run: $(INSTALLED)  ## re-execute the notebook in place, refreshing its outputs and images/
	$(BIN)/jupyter nbconvert --to notebook --execute --inplace \
		--ExecutePreprocessor.record_timing=False \
		'--ExecutePreprocessor.extra_arguments=["--IPKernelApp.capture_fd_output=False"]' \
		$(NOTEBOOK)
	$(BIN)/jupyter nbconvert --to notebook --inplace --CoalesceStreamsPreprocessor.enabled=True $(NOTEBOOK)

TEST_WORKERS ?= 2
test: $(INSTALLED) $(ASSETS)  ## lint, then every test, on TEST_WORKERS processes (pytest-xdist)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

# The editing loop: lint, strict nbval, the exercises, the notebook file and three parameter sets, in about a minute.
QUICK_TESTS := tests/test_nbval.py tests/test_exercises.py tests/test_notebook_file.py tests/test_parameters.py \
	tests/test_check_close.py
quick: $(INSTALLED)  ## a quick tier of the tests, to run between two edits; make test runs them all
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) -m "not slow" $(QUICK_TESTS)

test-oldest: $(OLDEST_INSTALLED)  ## run every assert of the notebook (papermill) on the oldest supported TensorFlow and Keras
	mkdir -p build/oldest
	$(OLDEST)/bin/papermill --no-progress-bar -k python3 --cwd build/oldest $(NOTEBOOK) build/oldest.ipynb
	@$(OLDEST)/bin/python -c "import tensorflow as tf, keras; print('passed on TensorFlow', tf.__version__, 'with Keras', keras.__version__)"

# The largest allowed work (benchmarks/slowest_corners.py times it): every check must hold there too.
SLOWEST := -p NUM_EXAMPLES 50000 -p EPOCHS 2000 -p REPEATS 2000 -p BATCH_SIZE 100 -p MINIBATCH_EPOCHS 40
test-slowest: $(INSTALLED)  ## run every assert of the notebook (papermill) at the slowest corner of the allowed space
	mkdir -p build/slowest
	$(BIN)/papermill --no-progress-bar -k python3 --cwd build/slowest $(NOTEBOOK) build/slowest.ipynb $(SLOWEST)

$(OLDEST_INSTALLED): requirements-oldest.txt
	$(call require_python,OLDEST_PYTHON,$(OLDEST_PYTHONS))
	$(OLDEST_PYTHON) -m venv $(OLDEST)
	$(OLDEST)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-oldest.txt
	touch $@

lint: $(INSTALLED)
	$(BIN)/ruff check .

$(INSTALLED): requirements.txt
	$(call require_python,PYTHON,$(PYTHONS))
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

student: $(INSTALLED)  ## the class version, in build/student/: no solutions, teacher notes or outputs; its checks still grade
	$(BIN)/python tools/student_version.py build/student/$(NOTEBOOK)

bench: $(INSTALLED)  ## speed figures (not tests): per-step cost by data size, notebook time against the import floor
	$(BIN)/python benchmarks/step_time.py
	$(BIN)/python benchmarks/notebook_time.py
