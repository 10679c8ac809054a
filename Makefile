# The course's commands. `make book` and `make test` are all a fresh clone needs:
# each creates .venv from requirements.txt when it is missing or out of date.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
# nbgrader starts `alembic` by name, so the venv's bin/ must be on PATH.
export PATH := $(BIN):$(PATH)
# Keep TensorFlow's C++ logging off the pages and out of the test logs.
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0
PORT ?= 8000

.PHONY: help venv book test serve release validate grade bench clean

help:
	@echo "make book      build the website into _build/html (executes every chapter)"
	@echo "make test      run the whole test suite (builds the book first when needed)"
	@echo "make serve     serve _build/html on http://localhost:$(PORT)"
	@echo "make release   generate exercises/ from solutions/ (nbgrader)"
	@echo "make validate  solutions pass their tests; blank releases fail them"
	@echo "make grade     autograde submitted/, write feedback/ and grades.csv"
	@echo "make bench     run the benchmarks"
	@echo "make clean     remove build output and caches (keeps .venv)"

$(VENV)/.installed: requirements.txt pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	@echo "installing requirements into $(VENV) (first time: several minutes)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip 2>&1 | { grep -v "is ignored: it is neither" || true; }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt 2>&1 | { grep -v "is ignored: it is neither" || true; }
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" > /dev/null
	@touch $@

venv: $(VENV)/.installed

book: venv
	$(BIN)/jupyter-book build . -W -n --keep-going --builder html

test: venv
	$(BIN)/python -m pytest

serve: venv
	@test -d _build/html || { echo "no _build/html yet: run 'make book' first"; exit 1; }
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

clean:
	rm -rf _build artifacts .pytest_cache
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +
