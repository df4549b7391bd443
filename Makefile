# Two entry points (see README.md): `make assess` and `make test`. Each builds its own .venv.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= report

.PHONY: assess test venv lint typecheck pytest services tools bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[server,analytics,load]'
	touch $@

venv: $(VENV)/.installed-dev

assess: $(VENV)/.installed
	$(BIN)/recoup assess --out $(OUT)

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks scripts
	$(BIN)/mypy --strict src

typecheck: lint

services:
	bash scripts/services.sh

# Debian's prometheus-alertmanager and prometheus: the real binaries the server tests talk to.
tools:
	bash scripts/install_tools.sh

pytest: $(VENV)/.installed-dev services tools
	$(BIN)/python -m pytest -q

test: lint pytest

$(VENV)/.installed-bench: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev,bench]'
	touch $@

bench: $(VENV)/.installed-bench services tools
	$(BIN)/python benchmarks/overhead.py
	$(BIN)/python benchmarks/classify_accuracy.py
	$(BIN)/python benchmarks/git_checkpoint.py
	$(BIN)/python benchmarks/checkpoints.py
	$(BIN)/python benchmarks/learning.py
	$(BIN)/python benchmarks/ingest.py --repeat 2

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache
