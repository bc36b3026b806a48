# Two commands on a fresh machine with Python 3.11:  `make run`  and  `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin

.PHONY: run test fuzz lint install clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("Courier needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Running needs requirements.txt alone; the tests and tools need requirements-dev.txt on top.
$(VENV)/.runtime: requirements.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements.txt
	@touch $@

$(VENV)/.installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install -q -r requirements-dev.txt
	@touch $(VENV)/.runtime $@

install: $(VENV)/.installed

# The whole system in one process: SQLite in var/, the in-memory broker, worker threads, a demo partner.
run: $(VENV)/.runtime
	$(BIN)/python -m scripts.run

# The SQLite tier always; the PostgreSQL + Redis tier too when DATABASE_URL and REDIS_URL are set.
test: install
	env -u DATABASE_URL -u REDIS_URL $(BIN)/python -m pytest
	@if [ -n "$$DATABASE_URL" ] && [ -n "$$REDIS_URL" ]; then \
		echo "== service tier: $$DATABASE_URL, $$REDIS_URL"; \
		$(BIN)/python -m pytest; \
	else \
		echo "== service tier not run: set DATABASE_URL and REDIS_URL to run it"; \
	fi

# Explore the API with schemathesis beyond the few fixed examples of `make test` (SQLite tier).
FUZZ_EXAMPLES ?= 200
fuzz: install
	env -u DATABASE_URL -u REDIS_URL FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/api/test_schemathesis.py

# Style and types: ruff (lint and format) and mypy on the packages.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var
