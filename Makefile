# Quick start: `make demo` then `make test`. Everything installs into .venv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check

.PHONY: demo test bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

# Stamp files re-run pip only when setup.cfg changes.
$(VENV)/.installed-demo: setup.cfg pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[assignments]'
	touch $@

$(VENV)/.installed-test: setup.cfg pyproject.toml | $(PY)
	$(PIP) install --quiet -e '.[test,ref,assignments]'
	touch $@

demo: $(VENV)/.installed-demo
	$(PY) -m assignments run cnn

test: $(VENV)/.installed-test
	$(PY) -m pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(PY) -m benchmarks all

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
