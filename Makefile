# Quick start: `make demo` then `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check

.PHONY: demo test bench precompile clean notebooks strip-notebooks

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Stamp files re-run pip only when setup.cfg changes.
$(VENV)/.installed-demo: setup.cfg pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[assignments]'
	touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[test,ref,assignments,notebooks,graph,sweep]'
	touch $@

# Compile every Numba kernel into its on-disk cache (about a minute the first
# time, seconds after), so that no first call of a command or layer waits.
# Numba itself recompiles a kernel whose source changed.
PRECOMPILE = $(PY) -m layers.precompile && $(PY) -m optim.precompile && $(PY) -m classic_cv.precompile

precompile: $(VENV)/.installed-demo
	$(PRECOMPILE)

demo: $(VENV)/.installed-demo
	$(PRECOMPILE)
	$(PY) -m assignments run cnn

test: $(VENV)/.installed-test
	$(PRECOMPILE)
	$(PY) -m pytest $(PYTEST_ARGS)

# The course notebooks in Jupyter Lab (the kernel is this venv's Python).
# Graph pictures also need Graphviz's `dot` program (Debian: apt-get install graphviz).
notebooks: $(VENV)/.installed-notebooks
	$(PRECOMPILE)
	$(PY) -m jupyterlab --notebook-dir=notebooks

$(VENV)/.installed-notebooks: setup.cfg pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[assignments,notebooks,graph]'
	touch $@

# Committed notebooks carry no outputs (tests/test_notebooks.py checks it).
strip-notebooks: $(VENV)/.installed-test
	$(PY) tests/test_notebooks.py

bench: $(VENV)/.installed-test
	$(PY) -m benchmarks all

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
