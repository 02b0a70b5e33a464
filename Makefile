# Three-tier app on Kubernetes with Pulumi: the commands users and CI run.
# `make help` lists them. Everything installs itself: the venv from requirements-dev.txt,
# Go-built tools into a version-keyed cache outside the clone (hack/).

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= dev
STACKS := dev staging prod
OUT ?=
NODE ?=
NODES ?=
# Simulated kwok nodes beside the real one(s) for `make cluster-up` (0-50; unset: left as they are).
KWOK_NODES ?=
# Where stacks keep their state: local (the file backend .pulumi-state/) or postgres (make state-up's
# server, shared by every clone on this machine). PULUMI_BACKEND_URL, when set, wins over both.
BACKEND ?= local
PYTEST_FLAGS ?= -q
# The fleet (examples/fleet): how many apps, and its stack (examples/fleet/Pulumi.<stack>.yaml).
APPS ?= 10
FLEET_STACK ?= kwok
# One up's engine settings (deploy/up_options.py): SKIP_CHECKPOINTS=1 writes the state once, at the
# end (a large stack's up without the N^2 checkpoint writes; an up killed midway records nothing);
# ADOPT_EXISTING=1 takes over objects that already exist (the way back after such an up was killed);
# PARALLEL=P runs P resource operations at once (pulumi up --parallel, 1-256; empty: the CLI's 4 per
# core; on 2 cores 32 gained nothing over 8 for 100 apps: docs/benchmarks.md).
SKIP_CHECKPOINTS ?=
ADOPT_EXISTING ?=
PARALLEL ?=
UP_OPTIONS = THREETIER_SKIP_CHECKPOINTS=$(SKIP_CHECKPOINTS) THREETIER_ADOPT_EXISTING=$(ADOPT_EXISTING) \
	THREETIER_PARALLEL=$(PARALLEL)
PACKAGE_VENV := package/venv

.PHONY: help venv package ts-sdk lint unit test render policy policy-all toolchain images cluster-up cluster-down state-up state-down state-migrate state-unlock up down verify integration clean \
	platform-up platform-down platform-render platform-policy fleet-up fleet-down fleet-verify fleet-render

help: ## list the commands
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

venv: $(VENV)/.installed ## create the project virtualenv (.venv) with pinned packages

$(VENV)/.installed: requirements.txt requirements-dev.txt policy/requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements-dev.txt
	@touch $@

package: $(PACKAGE_VENV)/.installed ## the component package's venv (package/venv): ThreeTierApp for YAML, TypeScript...

# `pulumi up` does not create a component package's venv, nor does `pulumi package add` (pulumi#19233).
$(PACKAGE_VENV)/.installed: package/requirements.txt requirements.txt pyproject.toml
	@test -x $(PACKAGE_VENV)/bin/python || $(PYTHON) -m venv $(PACKAGE_VENV)
	cd package && venv/bin/python -m pip install --quiet -r requirements.txt
	@touch $@

ts-sdk: package ## the TypeScript consumer's SDK (pulumi package add, not committed) and its pinned npm packages
	@engine_path="$$($(PY) -m deploy --path)" && cd examples/ts-app && \
	  PATH="$$engine_path" PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true pulumi package add ../../package
	cd examples/ts-app && npm ci --no-audit --no-fund

lint: venv ## ruff (lint + format check) and mypy
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

unit: venv ## unit tests: components under API-server mocks, rendering + schema validation, policy pack
	$(VENV)/bin/pytest $(PYTEST_FLAGS) tests/unit $(wildcard tests/policy) examples/fleet/tests

test: lint unit policy-all ## all offline tests (the README's test command)

render: venv ## write STACK's manifests to build/manifests/STACK (or OUT=dir)
	$(PY) -m offline.render --stack $(STACK) $(if $(OUT),--out $(OUT))

policy: venv ## run the policy pack over STACK offline; non-zero exit on a mandatory violation
	$(PY) -m offline.policy_check --stack $(STACK)

policy-all: venv
	@for stack in $(STACKS); do $(MAKE) --no-print-directory policy platform-policy STACK=$$stack || exit 1; done

platform-render: venv ## write STACK's platform manifests (namespace, quota, limits, deployer) to build/manifests/platform-STACK
	$(PY) -m offline.render --stack $(STACK) --project-dir platform --out $(or $(OUT),build/manifests/platform-$(STACK))

platform-policy: venv ## run the policy pack over STACK's platform stack offline (policy/config/platform.json)
	$(PY) -m offline.policy_check --stack $(STACK) --project-dir platform --config policy/config/platform.json

toolchain: venv ## build (or reuse from the cache) the Go tools: local cluster and Pulumi engine
	hack/build-cluster-tools.sh
	hack/build-pulumi-tools.sh

images: ## build the app's container images (OCI archives from Debian packages, cached outside the clone)
	hack/build-images.sh

cluster-up: ## start the local cluster: control plane on loopback + NODES real nodes (default 2; NODE=kwok: simulated nodes only; KWOK_NODES=K tainted kwok nodes beside them)
	$(if $(NODE),THREETIER_NODE=$(NODE)) $(if $(NODES),THREETIER_NODES=$(NODES)) $(if $(KWOK_NODES),THREETIER_KWOK_NODES=$(KWOK_NODES)) hack/cluster-up.sh

cluster-down: ## stop the local cluster (every process, namespace, veth, route, iptables rule) and delete its data
	hack/cluster-down.sh

state-up: ## start the shared state backend: PostgreSQL on loopback, one role, one database (idempotent)
	hack/state-up.sh

state-down: ## stop the state backend's server (its data, the stacks' state, stays)
	hack/state-down.sh

state-migrate: venv ## move STACK from the file backend to the PostgreSQL one (state, secrets, config kept)
	THREETIER_BACKEND=postgres hack/stack.sh migrate $(STACK)

state-unlock: venv ## remove STACK's locks in BACKEND (the stale lock of a killed `pulumi up`)
	THREETIER_BACKEND=$(BACKEND) hack/stack.sh unlock $(STACK)

up: venv ## policy-gated `pulumi up` of STACK through its scoped deployer (platform stack first if missing), then verification (BACKEND=local|postgres, SKIP_CHECKPOINTS=1, ADOPT_EXISTING=1, PARALLEL=P)
	$(UP_OPTIONS) THREETIER_BACKEND=$(BACKEND) hack/stack.sh up $(STACK)

platform-up: venv ## policy-gated `pulumi up` of STACK's platform stack (namespace, quota, limits, deployer) as admin (BACKEND=...)
	THREETIER_BACKEND=$(BACKEND) hack/stack.sh platform-up $(STACK)

platform-down: venv ## destroy STACK's platform stack, refused while the app stack still deploys through it (BACKEND=...)
	THREETIER_BACKEND=$(BACKEND) hack/stack.sh platform-down $(STACK)

down: venv ## destroy STACK and remove it (BACKEND=local|postgres)
	THREETIER_BACKEND=$(BACKEND) hack/stack.sh down $(STACK)

verify: venv ## post-deploy verification of a deployed STACK (BACKEND=..., OUTPUTS=file.json, VERIFY_TIMEOUT=s)
	$(if $(OUTPUTS),OUTPUTS=$(OUTPUTS)) $(if $(VERIFY_TIMEOUT),VERIFY_TIMEOUT=$(VERIFY_TIMEOUT)) THREETIER_BACKEND=$(BACKEND) hack/stack.sh verify $(STACK)

fleet-up: venv ## the fleet of APPS apps (1-500, default 10) on the simulated nodes: policy-gated up, then fleet-verify (KWOK_NODES=K adds nodes; SKIP_CHECKPOINTS=1, ADOPT_EXISTING=1, PARALLEL=P)
	$(UP_OPTIONS) $(if $(KWOK_NODES),THREETIER_KWOK_NODES=$(KWOK_NODES)) THREETIER_FLEET_APPS=$(APPS) THREETIER_BACKEND=$(BACKEND) hack/stack.sh fleet-up $(FLEET_STACK)

fleet-verify: venv ## the verifier over every app of the deployed fleet (OUTPUTS=file.json, VERIFY_TIMEOUT=s)
	$(if $(OUTPUTS),OUTPUTS=$(OUTPUTS)) $(if $(VERIFY_TIMEOUT),VERIFY_TIMEOUT=$(VERIFY_TIMEOUT)) THREETIER_BACKEND=$(BACKEND) hack/stack.sh fleet-verify $(FLEET_STACK)

fleet-down: venv ## destroy the fleet and remove its stack
	THREETIER_BACKEND=$(BACKEND) hack/stack.sh fleet-down $(FLEET_STACK)

fleet-render: venv ## write the fleet's manifests (APPS apps) to build/manifests/fleet-kwok (or OUT=dir): kubectl's baseline
	THREETIER_FLEET_APPS=$(APPS) $(if $(OUT),OUT=$(OUT)) hack/stack.sh fleet-render $(FLEET_STACK)

integration: venv ## integration suite against the local cluster (fails when no cluster answers); adds KWOK_NODES (default 3) simulated nodes for the fleet
	THREETIER_KWOK_NODES=$(or $(KWOK_NODES),3) hack/kwok-nodes.sh
	THREETIER_REQUIRE_CLUSTER=1 $(VENV)/bin/pytest $(PYTEST_FLAGS) --durations=12 -m integration tests/integration

clean: ## remove rendered manifests and caches in the clone (not the toolchain cache)
	rm -rf build .pytest_cache .mypy_cache .ruff_cache
