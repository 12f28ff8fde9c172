# robotrl_ros: every target sets up .venv itself (idempotent) before it runs.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup run test bench lint clean

setup:
	@$(PYTHON) tools/setup_env.py

# The train_sim graph (config/train_sim.yaml + the overrides it prints), robotrl eval, deploy run.
run: setup
	@$(PY) -m robotrl_ros.graphs.main_job $(ARGS)

test: setup
	@$(PY) -m pytest test

bench: setup
	@$(PY) benchmarks/run_all.py

lint: setup
	@$(VENV)/bin/ruff check robotrl_ros test benchmarks tools launch

clean:
	rm -rf $(VENV) build install log .pytest_cache
