# Two commands do all set-up on a fresh machine (Python 3.11+):
#   make demo   train the book's two-layer net on MNIST and render its graph
#   make test   run the whole test suite
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
OUT     ?= runs/demo

# MNIST: $TINYGRAD_FISH_DATA if set; else a copy shared beside the checkout (as on the team's
# machines, which have no internet); else the loader downloads it into ~/.cache.
ifneq ($(wildcard ../shared/mnist/train-images-idx3-ubyte.gz),)
export TINYGRAD_FISH_DATA ?= $(abspath ../shared/mnist)
endif

.PHONY: demo test lint typecheck clean graphviz

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP) graphviz
	$(BIN)/python -m tinygrad_fish train --out $(OUT) --overwrite
	@if command -v dot >/dev/null; then \
	  $(BIN)/python -m tinygrad_fish graph --out $(OUT)/graph.svg; \
	else \
	  $(BIN)/python -m tinygrad_fish graph --out $(OUT)/graph.dot; \
	  echo "Graphviz's dot is not installed: wrote DOT source; install graphviz for SVG"; \
	fi

# Graphviz's `dot` renders graphs to SVG/PNG. Installed with apt-get when missing and we may
# (root on Debian/Ubuntu); elsewhere the demo writes DOT source instead.
graphviz:
	@command -v dot >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq graphviz \
	  >/dev/null; } || true

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
