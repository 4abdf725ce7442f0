# Two entry points, both self-contained on a fresh machine (they create .venv and install what is needed):
#   make demo   simulate a shipped scenario
#   make test   lint, type-check and run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The report's browser test needs Chromium: Debian's package, installed when missing (as root, or with sudo).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: demo test bench clean browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,dask]"
	touch $@

demo: $(VENV)/.installed
	$(BIN)/mixsim simulate scenarios/d2c_ecommerce.toml --incrementality

test: $(VENV)/.installed browser
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/pytest -q -n auto --dist loadfile --durations=10

browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  if command -v apt-get >/dev/null 2>&1 && { [ -z "$(SUDO)" ] || sudo -n true 2>/dev/null; }; then \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -q && \
	    $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	  else echo "chromium cannot be installed here (no apt-get, or no root): the report's browser test is skipped"; fi

bench: $(VENV)/.installed
	$(BIN)/python benchmarks/engine_scale.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
