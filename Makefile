# Two commands: `make demo` and `make test`. Each creates .venv if missing, installs, and runs.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
export DVC_NO_ANALYTICS := 1
export RAY_USAGE_STATS_ENABLED := 0
export NO_ALBUMENTATIONS_UPDATE := 1
export TF_CPP_MIN_LOG_LEVEL := 2
export KERAS_BACKEND ?= tensorflow
# The suite averages one busy core when run serially; two xdist workers use both (tests/conftest.py orders
# the long files first). TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= 2

.PHONY: setup test demo bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade "pip>=25"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test]"
	@touch $(STAMP)

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder $(PYTEST_ARGS)

demo: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" $(BIN)/hookseg pipeline run

bench: $(STAMP)
	for b in bench/*.py; do $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache
