# The course's commands. `make book` and `make test` are all a fresh clone needs:
# each creates .venv from requirements.lock when it is missing or out of date.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
BIN := $(abspath $(VENV))/bin
# nbgrader starts `alembic` by name, so the venv's bin/ must be on PATH.
CALLERS_PATH := $(PATH)
export PATH := $(BIN):$(PATH)
# The environment chapters run under (PYTHONHASHSEED, RNNLAB_STATIC_OUTPUT, ...) is set by
# coursetools/execute.py, whoever runs them: the book, the tests, or a bare command.
# torch's CPU build (the lock pins torch==X+cpu) comes from where pip is told to look
# (PIP_FIND_LINKS, which uv is given too), else from PyTorch's own CPU index.
TORCH_CPU_INDEX ?= https://download.pytorch.org/whl/cpu
ifdef PIP_FIND_LINKS
export UV_FIND_LINKS ?= $(PIP_FIND_LINKS)
endif
# --compile-bytecode: a sandboxed kernel cannot write .pyc files, so without them every kernel
# compiles NumPy, PyTorch and scikit-learn from source again (seconds to tens of seconds)
UV := $(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python
PORT ?= 8000

.PHONY: help venv lock lock-check book test test-fast serve release validate grade sandbox bench clean browser site-zip pdf hub hub-clean hub-proxy

help:
	@echo "make book      build the website into _build/html (executes every chapter)"
	@echo "make test      run the whole test suite (builds the book first when needed)"
	@echo "make test-fast unit and parity tests only, for the edit loop (under two minutes)"
	@echo "make lock      compile requirements.lock from requirements.txt"
	@echo "make serve     serve _build/html on http://localhost:$(PORT)"
	@echo "make release   generate exercises/ from solutions/ (nbgrader)"
	@echo "make validate  solutions pass their tests; blank releases fail them"
	@echo "make grade     autograde submitted/, write feedback/ and grades.csv"
	@echo "make bench     run the benchmarks"
	@echo "make clean     remove build output and caches (keeps .venv)"
	@echo "make site-zip  zip the built site for offline reading (artifacts/rnn-course-site.zip)"
	@echo "make pdf       the whole book as one PDF, printed by Chromium (artifacts/rnn-course.pdf)"
	@echo "make browser   install chromium + chromedriver for the browser test (root, apt)"
	@echo "make hub       a demo class on a real JupyterHub at http://127.0.0.1:$(HUB_PORT) (root)"
	@echo "make hub-clean remove the demo class (its accounts and $(HUB_ROOT)), nothing else"

# The venv is the lock, exactly: pip installs uv (its version from the lock), uv installs
# torch's CPU build, then makes the venv hold what requirements.lock lists and nothing else.
# The lock is compiled for Linux x86_64; elsewhere (macOS) uv installs requirements.txt's pins.
$(VENV)/.installed: requirements.lock requirements.txt pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || { \
	  echo "requirements.lock is compiled for Python 3.11; $(PYTHON) is Python $$($(PYTHON) -c 'import platform; print(platform.python_version())')."; \
	  echo "Install Python 3.11 and run: make PYTHON=python3.11 (or remove a .venv made by another Python)"; exit 1; }
	@$(LOCK_CHECK)
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv --without-pip $(VENV)
	@echo "installing requirements.lock into $(VENV) (first time: a minute or more)"
	@# uv (its version from the lock) by this Python's own pip (the caller's PATH: python3 on
	@# ours is the venv's now), which installs into another environment (pip >= 22.3:
	@# `--python`); without one, the venv gets its pip first (ensurepip, ~4 s more). uv then
	@# installs everything else, the lock's pip included.
	@PATH="$(CALLERS_PATH)" $(PYTHON) -m pip --python $(BIN)/python install --quiet --disable-pip-version-check $$(grep -E '^uv==' requirements.lock) 2>&1 | { grep -v "is ignored: it is neither" || true; } || { \
	  $(BIN)/python -m ensurepip --default-pip > /dev/null && \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check $$(grep -E '^uv==' requirements.lock); }
	@if [ "$$(uname -sm)" = "Linux x86_64" ]; then \
	  set -x; \
	  $(UV) --no-deps $$(grep '^torch==' requirements.lock) || { \
	    echo "torch's CPU build is not where pip looks (above): trying PyTorch's CPU index"; \
	    $(UV) --no-deps --index-url $(TORCH_CPU_INDEX) $$(grep '^torch==' requirements.lock); }; \
	  $(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock; \
	else \
	  set -x; $(UV) -r requirements.txt; \
	fi
	@# (ipykernel writes the kernel spec through a temporary folder it leaves behind: give it one)
	scratch=$$(mktemp -d) && TMPDIR=$$scratch $(BIN)/python -m ipykernel install --sys-prefix \
	  --name python3 --display-name "Python 3" > /dev/null && rm -rf $$scratch
	@touch $@

# Compile requirements.lock from requirements.txt with uv's resolver (needs the package index),
# for Python 3.11 on Linux x86_64 whatever machine runs it. torch's CPU build comes from where
# pip is told to look (PIP_FIND_LINKS, given to uv above), else from PyTorch's CPU index (uv's
# --torch-backend cpu). The lock's first line records requirements.txt's SHA-256: make venv
# (LOCK_CHECK) refuses a lock compiled from another requirements.txt, with no network.
# rfc3987-syntax (and lark, its only user) stay out: jsonschema imports it when installed and
# builds a URI grammar on import, a second of CPU in every process that imports nbformat
# (each nbgrader, jupyter-book, Jupyter server and chapter runner); all it adds is checking the
# "uri"/"iri" formats of Jupyter's event schemas, which jsonschema skips without it.
LOCK_LEAVES_OUT = rfc3987-syntax lark
REQUIREMENTS_SHA256 = $$($(PYTHON) -c "import hashlib; print(hashlib.sha256(open('requirements.txt', 'rb').read()).hexdigest())")
LOCK_CHECK = grep -qxF "\# requirements.txt sha256: $(REQUIREMENTS_SHA256)" requirements.lock || \
  { echo "requirements.lock was not compiled from this requirements.txt: run make lock" >&2; exit 1; }
lock:
	@test -x $(BIN)/uv || { test -x $(BIN)/python || $(PYTHON) -m venv $(VENV); \
	  $(BIN)/python -m pip install --quiet --disable-pip-version-check $$(grep -E '^uv==' requirements.txt); }
	$(BIN)/uv pip compile --quiet requirements.txt --output-file requirements.lock \
	  --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
	  $(if $(PIP_FIND_LINKS),,--torch-backend cpu) --custom-compile-command "make lock" \
	  $(foreach package,$(LOCK_LEAVES_OUT),--no-emit-package $(package))
	@grep -q '^torch==.*+cpu$$' requirements.lock || \
	  { echo "requirements.lock pins $$(grep '^torch==' requirements.lock), not torch's CPU build" >&2; exit 1; }
	@$(PYTHON) -c "import pathlib, sys; lock = pathlib.Path('requirements.lock'); \
	  lock.write_text(sys.argv[1] + '\n' + lock.read_text())" "# requirements.txt sha256: $(REQUIREMENTS_SHA256)"

lock-check:
	@$(LOCK_CHECK)

venv: $(VENV)/.installed

# Chapters run two at a time before the build (coursetools/execute.py); the book renders them
# from the cache, and `make test` checks those executions instead of running them again.
# The build's log is kept in _build/build.log: the site tests read this build and its log.
book: venv
	$(BIN)/python -m coursetools.execute
	@mkdir -p _build
	$(BIN)/jupyter-book build . -W -n --keep-going --builder html 2>&1 | tee _build/build.log

test: venv browser sandbox hub-proxy
	$(BIN)/python -m coursetools.execute
	$(BIN)/python -m pytest

# The edit loop: unit and parity tests only (no notebook, book, browser or grading run).
FAST := not slow and not notebooks and not site and not browser and not grading
test-fast: venv
	$(BIN)/python -m pytest tests -m "$(FAST)" -q

serve: venv
	@test -d _build/html || { echo "no _build/html yet: run 'make book' first"; exit 1; }
	$(BIN)/python -m http.server $(PORT) --bind 127.0.0.1 --directory _build/html

# ---- exercises (nbgrader; settings in nbgrader_config.py, guide in instructors/) ----
# COURSE is the course folder (solutions/, exercises/, submitted/, gradebook.db); the tests
# point it at a scratch copy.
COURSE ?= .
NBGRADER := cd $(COURSE) && $(BIN)/nbgrader
# the banner a kernel prints on start, once per graded notebook
QUIET_KERNEL := { grep -v -e "IPKernelApp" -e "Kernel is running over TCP" -e "ipython kernel. entry point" \
  -e "To exit, you will have to" -e '"quit" from a client' -e "To read more about this" \
  -e "ipython/issues/2049" -e "To connect another client" -e "--existing " -e "^\s*$$" || true; }

release: venv
	$(NBGRADER) generate_assignment "*" --force --log-level=WARN

# Solutions pass their tests, blank releases fail them: decided by the exit status of
# coursetools/validate.py (nbgrader's validate app; `nbgrader validate` exits 0 either way).
validate: venv
	cd $(COURSE) && $(BIN)/python -m coursetools.validate 2>&1 | $(QUIET_KERNEL)

# The grading sandbox is bubblewrap: install it when missing and we can (root + apt-get).
sandbox:
	@if ! command -v bwrap > /dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get > /dev/null; then \
	  echo "installing bubblewrap (the grading sandbox)"; \
	  apt-get install -y -qq bubblewrap > /dev/null 2>&1 || \
	  { apt-get update -qq > /dev/null && apt-get install -y -qq bubblewrap > /dev/null; } || true; \
	fi
	@command -v bwrap > /dev/null || echo "WARNING: bubblewrap (bwrap) is not installed and could not be installed here; make grade will refuse to run, sandbox tests will skip (fail under CI=true)"

# Autograde every submission in submitted/<student>/<assignment>/ inside the sandbox, JOBS at a
# time, then write feedback/ and grades.csv (coursetools/grade.py; guide: instructors/grading.md).
# Prints a table and a short summary, keeps nbgrader's log in grading.log, and exits non-zero
# when a submission could not be graded. GRADE_UNSANDBOXED=1 grades without the sandbox.
JOBS ?= 1
grade: venv sandbox
	$(BIN)/python -m coursetools.grade --course $(COURSE) --jobs $(JOBS)

# Speed and quality measurements; each script prints one table (see benchmarks/*.py).
# SECONDS_PER_MODEL is the wall-clock training budget of each character model.
SECONDS_PER_MODEL ?= 300
bench: venv sandbox
	$(BIN)/python benchmarks/numpy_vs_torch.py --threads 1
	$(BIN)/python benchmarks/grading.py
	$(BIN)/python benchmarks/charlm.py --seconds $(SECONDS_PER_MODEL)

clean:
	rm -rf _build artifacts .pytest_cache
	find . -name __pycache__ -not -path "./$(VENV)/*" -prune -exec rm -rf {} +

# Debian's chromium and chromedriver, for tests/test_browser.py and `make pdf`. Installed when
# missing and this runs as root with apt-get; otherwise the browser test is skipped, loudly
# (and fails under CI=true). No browser is ever downloaded by a test tool.
browser:
	@if { command -v chromium || [ -n "$${CHROME_BIN:-}" ]; } > /dev/null && \
	    { command -v chromedriver || [ -n "$${CHROMEDRIVER:-}" ]; } > /dev/null; then \
	  true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get > /dev/null; then \
	  echo "installing Debian's chromium and chromium-driver for the browser test"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      chromium chromium-driver > /dev/null; } || echo "!!! installing chromium FAILED"; \
	else \
	  echo "!!! no chromium/chromedriver, and no root+apt-get to install them:"; \
	  echo "!!! the browser test will be SKIPPED (run 'make browser' as root)"; \
	fi

# The built site in one zip, for reading with no network: unzip, open rnn-course/index.html.
site-zip: book
	@mkdir -p artifacts
	$(BIN)/python -c "import pathlib, zipfile; site = pathlib.Path('_build/html'); \
	  files = [p for p in sorted(site.rglob('*')) if p.is_file()]; \
	  archive = zipfile.ZipFile('artifacts/rnn-course-site.zip', 'w', zipfile.ZIP_DEFLATED); \
	  [archive.write(p, 'rnn-course/' + p.relative_to(site).as_posix()) for p in files]; \
	  archive.close(); print(f'artifacts/rnn-course-site.zip: {len(files)} files')"

# The book as one PDF: the single-page HTML build (same execution cache as `make book`),
# printed by headless Chromium once MathJax has typeset it. No LaTeX toolchain needed.
pdf: venv browser
	$(BIN)/jupyter-book build . -W -n --keep-going --builder singlehtml
	$(BIN)/python coursetools/headless.py pdf _build/singlehtml/intro.html artifacts/rnn-course.pdf

# ---- the class hub (coursetools/hub/; guide: instructors/deployment.md) ----
# JupyterHub's proxy, configurable-http-proxy, from npm at the version package-lock.json pins
# (Debian's nodejs and npm are installed when missing and this runs as root with apt-get).
HUB_DIR := coursetools/hub
HUB_ROOT ?= /srv/rnn-hub
HUB_PORT ?= 8000
$(HUB_DIR)/node_modules/.installed: $(HUB_DIR)/package.json $(HUB_DIR)/package-lock.json
	@if ! command -v npm > /dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get > /dev/null; then \
	  echo "installing Debian's nodejs and npm (for the hub's proxy)"; \
	  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm > /dev/null; } || true; \
	fi
	@command -v npm > /dev/null || { echo "!!! npm is missing: the hub (make hub, tests/test_hub.py) needs it"; exit 1; }
	cd $(HUB_DIR) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

hub-proxy:
	@$(MAKE) -s $(HUB_DIR)/node_modules/.installed || echo "!!! the hub's proxy could not be installed: the hub test will be SKIPPED (fails under CI=true)"

# A demo class (an instructor, three students, the grading service's account, all named
# rnndemo-*) on a real JupyterHub run as root, in the foreground: Ctrl-C stops it, nothing is
# lost; `make hub` again starts it again. make hub-clean removes the class and nothing else.
hub: venv sandbox $(HUB_DIR)/node_modules/.installed
	$(BIN)/python -m coursetools.hub start --root $(HUB_ROOT) --port $(HUB_PORT)

hub-clean: venv
	$(BIN)/python -m coursetools.hub clean --root $(HUB_ROOT)
