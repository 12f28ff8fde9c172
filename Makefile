# robotrl_ros: every target sets up .venv itself (idempotent) before it runs.
PYTHON ?= python3
# Test leg: `make test ROS_DISTRO=jazzy` runs the suite on ROS 2 Jazzy's PyPI wheels in
# .venv-jazzy, `ROS_DISTRO=kilted` on Kilted's in .venv. Without it (auto): a sourced ROS 2
# install if there is one, else Kilted's wheels. Only ROS_DISTRO given on the command line picks
# a leg: the one a sourced install exports does not.
LEG := $(if $(filter command line,$(origin ROS_DISTRO)),$(ROS_DISTRO),auto)
VENV := $(if $(filter jazzy,$(LEG)),.venv-jazzy,.venv)
PY := $(VENV)/bin/python

.PHONY: setup run test test-stress bench lint clean

setup:
	@$(PYTHON) tools/setup_env.py --leg $(LEG)

# The train_sim graph (config/train_sim.yaml + the overrides it prints), robotrl eval, deploy run.
run: setup
	@$(PY) -m robotrl_ros.graphs.main_job $(ARGS)

test: setup
	@$(PY) -m pytest test

# The suite with every core kept busy by tools/cpu_burner.py (started and stopped here, also when
# a test fails): tests wait for data, never for a speed, so this must pass like `make test`.
# PYTEST_ARGS='test/graphs test/nodes' runs a part of it.
PYTEST_ARGS ?= test
test-stress: setup
	@$(PY) tools/cpu_burner.py -- $(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	@$(PY) benchmarks/run_all.py

lint: setup
	@$(VENV)/bin/ruff check robotrl_ros test benchmarks tools launch

clean:
	rm -rf .venv .venv-jazzy build install log .pytest_cache
