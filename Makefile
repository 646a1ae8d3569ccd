PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
DEVELOP := $(VENV)/.installed-develop

.PHONY: venv test lint demo bench generate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# What `make demo` needs: the library with its command line.
$(RUNTIME): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[cli,fast]'
	touch $@

# Everything else: test, lint and benchmark tools.
$(DEVELOP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[cli,fast,test,bench,xlsx,parquet,dataframe,postgres,redis]'
	touch $@ $(RUNTIME)

venv: $(DEVELOP)

lint: $(DEVELOP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy --strict iqualify_async
	$(BIN)/mypy --strict tests/typing

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

demo: $(RUNTIME)
	$(BIN)/iqualify demo

bench: $(DEVELOP)
	$(BIN)/python -m benchmarks

generate: $(DEVELOP)
	$(BIN)/python -m tools.codegen

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .mypy_cache .ruff_cache
