# The two quick-start commands: `make demo` (main job) and `make test` (whole suite).
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench clean tempest tempest-network

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/ovnlab demo

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks examples
	$(VENV)/bin/mypy

test: lint
	$(VENV)/bin/pytest

# Tempest (OpenStack's API conformance suite) against a fresh lab; tools/tempest/run.py.
TEMPEST_STAMP := $(VENV)/.tempest-installed
$(TEMPEST_STAMP): $(STAMP)
	$(PY) -m pip install -q -e '.[tempest]'
	touch $(TEMPEST_STAMP)

tempest: $(TEMPEST_STAMP)
	$(PY) tools/tempest/run.py --tempest $(VENV)/bin/tempest

# the network API suite, failing on any failure tools/tempest/known-failures.txt does not list
tempest-network: $(TEMPEST_STAMP)
	$(PY) tools/tempest/run.py --suite network --strict --tempest $(VENV)/bin/tempest

bench: $(STAMP)
	$(PY) -m benchmarks.run

clean:
	rm -rf $(VENV) .ovnlab
