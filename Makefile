# The two Quick start commands (see README.md):
#   make book   installs everything into .venv and builds the HTML book into _build/html
#   make test   runs the complete test suite (it builds the book first: the site test reads it)
# For authors: `make notebooks` re-executes every chapter and solution notebook in place and
# regenerates exercises/; `make bench` runs the benchmarks.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install book test notebooks exercises bench clean

install: $(STAMP)

# The first install downloads about 1 GB of wheels into .venv (a few minutes; pip shows them).
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	@echo "== creating $(VENV) and installing the pinned requirements (first time: a few minutes)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --progress-bar on --upgrade pip
	$(BIN)/python -m pip install --progress-bar on -r requirements-dev.txt
	$(BIN)/python -m pip install --progress-bar on --no-deps -e .
	touch $(STAMP)

# Every build starts afresh: without the doctrees (and the execution cache) Sphinx re-reads, and
# so re-executes, every notebook, which picks up any change to abteach. The kernels' own log
# (a TCP-without-encryption warning per notebook) is set to errors only (_build/ipython).
book: $(STAMP)
	rm -rf _build/html _build/.doctrees _build/.jupyter_cache
	mkdir -p _build/ipython/profile_default
	echo 'c.IPKernelApp.log_level = "ERROR"' > _build/ipython/profile_default/ipython_kernel_config.py
	IPYTHONDIR=$(CURDIR)/_build/ipython $(BIN)/jupyter-book build . -W -n --keep-going

# Two workers; --dist loadfile keeps each notebook on one worker (nbval runs its cells in order
# in one kernel). Plain `.venv/bin/python -m pytest` runs the same suite serially.
test: book
	$(BIN)/python -m pytest -n 2 --dist loadfile

notebooks: $(STAMP)
	$(BIN)/python -m abteach.course.notebooks
	$(BIN)/python -m abteach.course.exercises

exercises: $(STAMP)
	$(BIN)/python -m abteach.course.exercises

bench: $(STAMP)
	for script in benchmarks/bench_*.py; do $(BIN)/python $$script || exit 1; done

clean:
	rm -rf _build .pytest_cache .hypothesis
