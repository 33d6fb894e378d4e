# Two commands do all set-up on a fresh machine (Python 3.11+):
#   make demo   train the book's two-layer net on MNIST and render its graph
#   make test   run the whole test suite
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
OUT     ?= runs/demo

.PHONY: demo test lint typecheck bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m tinygrad_fish train --out $(OUT)
	$(BIN)/python -m tinygrad_fish graph --out $(OUT)/graph.svg

# One BLAS thread per test worker: two workers on two cores must not oversubscribe them.
test: $(STAMP)
	$(BIN)/ruff check tinygrad_fish tests examples benchmarks
	$(BIN)/mypy
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .hypothesis
