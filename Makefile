# Two commands: `make run` starts the app, `make test` runs the linter and the tests.
# Both create .venv when needed. `make run` installs the runtime set
# (requirements.txt); `make test` also installs the test set (requirements-test.txt).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint install clean

install: $(RUN_STAMP)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(RUN_STAMP): requirements.txt | $(VENV)/bin/python
	$(PIP) -r requirements.txt
	touch $(RUN_STAMP)

$(TEST_STAMP): $(RUN_STAMP) requirements-test.txt
	$(PIP) -r requirements-test.txt
	touch $(TEST_STAMP)

run: $(RUN_STAMP)
	$(PY) app.py --host $(HOST) --port $(PORT)

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: lint
	$(PY) -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) instance .pytest_cache
