# Two entry points, both self-contained on a fresh machine (they create .venv and install what is needed):
#   make demo   simulate a shipped scenario
#   make test   lint, type-check and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/mixsim simulate scenarios/d2c_ecommerce.toml --incrementality

test: $(VENV)/.installed
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest -q

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/engine_scale.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
