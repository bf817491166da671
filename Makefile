# urbanform: `make demo` runs the demo workspace, `make test` runs the test suite.
# Both create the virtual environment .venv (Python 3.11+) and install urbanform first.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test venv lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "urbanform needs Python 3.11 or newer")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/urbanform run .

test: $(STAMP)
	$(BIN)/python -m pytest -q

lint: $(STAMP)
	$(BIN)/python -m pip install --quiet ruff mypy pandas-stubs types-PyYAML
	$(BIN)/ruff check urbanform tests benchmarks
	$(BIN)/mypy --strict urbanform

bench: $(STAMP)
	$(BIN)/python benchmarks/network.py
	$(BIN)/python benchmarks/living_circle.py

clean:
	rm -rf $(VENV) out build *.egg-info
