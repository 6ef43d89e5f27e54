# Two commands do all set-up on a fresh machine with Python 3.11+:
#   make demo   - build .venv, run the synthetic Region Sjælland, write out/demo/
#   make test   - build .venv with the test and dask extras, run ruff, mypy and the test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
OUT ?= out/demo

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall whenever pyproject.toml changes (the stamp is older than it).
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,dask]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/coverage-gap demo --out $(OUT)

test: $(VENV)/.installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -n auto

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/run.py --n 4000000

clean:
	rm -rf $(VENV) out .pytest_cache .ruff_cache
