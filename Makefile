# Borderless: the two commands of the README are `make run` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Python 3.10 (Rasa OSS 3.6 needs < 3.11) from pyenv, else from PATH.
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
PYTHON310 ?= $(or $(lastword $(sort $(wildcard $(PYENV_ROOT)/versions/3.10.*/bin/python3.10))),$(shell command -v python3.10 2>/dev/null))
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_PIN := $(shell grep -m1 '^uv==' requirements.lock)
export UV_PYTHON_DOWNLOADS := never

# Local defaults, then local overrides; exported to every command below.
include .env.example
-include .env
export

.PHONY: help install browser train run test lint catalogs lock bench clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' Makefile | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

install: $(VENV)/.installed ## create .venv from requirements.lock (Python 3.10, uv)

$(VENV)/.installed: requirements.lock
	@test -n "$(PYTHON310)" || { echo "error: Python 3.10 not found. Install it with 'pyenv install 3.10' (Rasa 3.6 needs < 3.11)."; exit 1; }
	@echo "==> creating $(VENV) with $(PYTHON310)"
	@test -x $(PY) || $(PYTHON310) -m venv $(VENV)
	@$(PY) -m pip install --quiet --disable-pip-version-check $(UV_PIN)
	@echo "==> installing the locked dependencies (the first time takes a few minutes)"
	@$(UV) pip sync --python $(PY) requirements.lock
	@touch $@

browser: ## install Debian's Chromium for the browser tests (apt-get; needs root or sudo)
	@command -v chromium >/dev/null || { \
	  echo "==> installing Debian's chromium + chromium-driver for the browser tests (a minute)"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null || \
	  { $$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium chromium-driver >/dev/null; } || \
	  { echo "error: could not install chromium; run: apt-get install -y chromium chromium-driver"; exit 1; }; }

train: install ## train a model if the data changed since the last one
	@$(PY) -m borderless.training

run: train ## install, train if needed, start shop + actions + Rasa (Ctrl-C stops)
	@$(PY) -m borderless.launcher

test: lint browser train ## lint, then the whole suite (unit, API, rasa data validate, rasa test, end to end)
	@$(PY) -m pytest; status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests"; exit 0; fi; exit $$status

lint: install ## ruff and mypy
	@$(VENV)/bin/ruff check borderless actions tests bench
	@$(VENV)/bin/ruff format --check borderless actions tests bench
	@$(VENV)/bin/mypy borderless actions

catalogs: install ## refresh locales/*.po after changing responses in domain.yml
	@$(PY) -m borderless.i18n.catalog sync
	@$(PY) -m borderless.i18n.catalog check || true

lock: install ## re-resolve requirements.in into requirements.lock
	@$(UV) pip compile requirements.in -o requirements.lock --python $(PY) --python-version 3.10 --no-header

bench: train ## print latency, throughput and NLU figures (docs/benchmarks.md); ~10 min
	@$(PY) bench/order_lookup.py
	@$(PY) bench/turns.py
	@$(PY) bench/nlu_eval.py --only project

clean: ## remove models, local databases and logs (keeps .venv)
	rm -rf models var results .rasa
