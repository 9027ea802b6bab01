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

$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

book: $(STAMP)
	rm -rf _build/html
	$(BIN)/jupyter-book build . -W -n --keep-going

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
