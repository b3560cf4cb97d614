# `make run` and `make test` are the whole set-up: each creates .venv when missing and installs
# what it needs (again only when a requirements file changed).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8501
API_PORT ?= 8080

.PHONY: run api lint test bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.app-installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(VENV)/.app-installed $@

# the one server: the dashboard, the API beside it (/api/v1, /docs), one sign-in in front of both
run: $(VENV)/.app-installed
	$(BIN)/python -m uvicorn server:app --host $(HOST) --port $(PORT)

# the API alone (what the compose `api` service runs)
api: $(VENV)/.app-installed
	$(BIN)/python -m uvicorn api.main:app --host $(HOST) --port $(API_PORT)

# the rule set is in pyproject.toml; formatting is ruff's, checked, not rewritten
lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

test: lint
	$(BIN)/python -m pytest

bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache
