# Two commands do all the set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test test-windows check lint typecheck bench clean conformance

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $@

# The main job on the embedded sandbox: search -> preview -> import -> answer file.
run: $(VENV)/.installed
	$(BIN)/python scripts/demo.py

# The whole suite, plus the checks CI depends on.
test: $(VENV)/.installed lint typecheck
	$(BIN)/python -m pytest -q

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# mypy sees the checkout under the package's own name (as the wheel installs it).
typecheck: $(VENV)/.installed
	mkdir -p $(VENV)/typecheck
	for name in tests bench scripts; do ln -sfn $(CURDIR)/$$name $(VENV)/typecheck/$$name; done
	ln -sfn $(CURDIR) $(VENV)/typecheck/mapctl
	cd $(VENV)/typecheck && MYPYPATH=. ../bin/mypy --config-file $(CURDIR)/pyproject.toml \
		-p mapctl -p tests -p bench -p scripts

# The suite (browser tests aside) and a smoke run of the main commands on Windows' own CPython
# 3.11 under Wine (Debian's), installed on first use; cached in ~/.cache/mapctl-windows.
# See docs/windows.md and scripts/windows/harness.py.
test-windows: $(VENV)/.installed
	scripts/windows/test-windows.sh $(BIN)/python

check: test

# Each prints its goals; a missed goal (exit 1) does not stop the others (`-`). render_speed.py
# also runs render_memory.py's and validate_startup.py's measurements.
bench: $(VENV)/.installed
	-$(BIN)/python bench/render_speed.py
	-$(BIN)/python bench/requests_per_import.py
	-$(BIN)/python bench/import_latency.py
	-$(BIN)/python bench/broad_search.py

# Schemathesis 4 against the sandbox on 127.0.0.1, in its own environment (a few minutes at
# most; `make test` does not need it). Figures at the end of its output.
CONFORMANCE := .venv-conformance

$(CONFORMANCE)/.installed: pyproject.toml
	$(PYTHON) -m venv $(CONFORMANCE)
	$(CONFORMANCE)/bin/python -m pip install -q --upgrade pip
	$(CONFORMANCE)/bin/python -m pip install -q -e '.[conformance]'
	touch $@

conformance: $(CONFORMANCE)/.installed
	$(CONFORMANCE)/bin/python scripts/conformance.py

clean:
	rm -rf $(VENV) $(CONFORMANCE) .mapctl-demo build dist *.egg-info
