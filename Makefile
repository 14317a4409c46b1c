# kubetrade: every target carries a `## help` line; `make help` lists them.
SHELL := bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
STATE := .kubetrade
KUBECONFIG_LOCAL := $(STATE)/cluster/kubeconfig
export PYTHONPATH := $(CURDIR)/hack

.PHONY: help setup binaries demo demo-stop test test-unit test-integration test-e2e lint format type crds docs console-snapshots chart images kind-e2e bench cluster-up cluster-down clean

help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*## ' $(MAKEFILE_LIST) | awk -F ':.*## ' '{printf "  \033[36m%-18s\033[0m %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==25.3 setuptools==84.2.1 wheel
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

binaries: ## Build etcd, kube-apiserver, kube-controller-manager, kubectl, helm and versitygw (S3) into the cache (once)
	@bash hack/build-control-plane.sh >/dev/null
	@bash hack/build-s3-server.sh >/dev/null

setup: $(STAMP) binaries ## Create the virtualenv and build the local control plane (idempotent)

demo: setup ## Run the control plane, operator, local node and web console; run examples/ until the TradingSession trades
	@bash hack/demo.sh

demo-stop: ## Stop what `make demo` started (console, operator, local node, control plane)
	@bash hack/demo.sh stop

test: setup ## Run all tests: unit, integration (real API server) and e2e (operator + local node)
	$(PY) -m pytest -q

test-unit: $(STAMP) ## Run the unit tests only (no services)
	$(PY) -m pytest -q tests/unit

test-integration: setup ## Run the integration tests only
	$(PY) -m pytest -q tests/integration

test-e2e: setup ## Run the end-to-end tests only
	$(PY) -m pytest -q tests/e2e

lint: $(STAMP) ## ruff lint and format check
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP) ## Apply ruff's formatting and safe fixes
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

type: $(STAMP) ## mypy --strict over the packages, dev tooling and test helpers
	$(VENV)/bin/mypy operator/kubetrade_operator workloads/kubetrade_workloads console/kubetrade_console hack/kubetrade_dev hack/gen_crd_docs.py hack/gen_argocd_cm.py hack/gen_kustomize.py hack/console_snapshots.py tests/kubetrade_testing

crds: $(STAMP) ## Render CRDs from the typed models into crds/ and the chart (then `make docs`)
	$(PY) -m kubetrade_operator.api.render --out crds --chart charts/kubetrade/crds
	@$(MAKE) --no-print-directory docs

docs: setup ## Regenerate what is derived: CRD field references, the Kustomize base, the argocd-cm patch
	$(PY) hack/gen_crd_docs.py
	$(PY) hack/gen_kustomize.py
	$(PY) hack/gen_argocd_cm.py

console-snapshots: setup ## Redraw docs/console/*.svg from seeded data in headless Chromium (page PNGs: .kubetrade/console-snapshots/)
	$(PY) hack/console_snapshots.py

chart: setup ## helm lint and template the chart
	@HELM=$$(bash hack/build-control-plane.sh)/helm; $$HELM lint --strict charts/kubetrade && $$HELM template kubetrade charts/kubetrade --kube-version 1.36.3 >/dev/null && echo "chart OK"

images: ## Build the operator, workload and workload-gpu images (needs Docker: hack/docker-setup.sh; REGISTRY, TAG, BASE_IMAGE)
	@bash hack/images.sh

kind-e2e: setup ## kind cluster + images + chart, then the in-cluster e2e suite (needs Docker and kind)
	@bash hack/kind-e2e.sh

.PHONY: argocd-e2e
argocd-e2e: setup ## Argo CD (built from source) syncs the chart and examples into kind; tests its health checks
	@bash hack/argocd-e2e.sh

bench: setup ## Operator benchmark against the local control plane (see docs/BENCHMARKS.md)
	$(PY) benchmarks/operator_bench.py

cluster-up: setup ## Start a local control plane; prints the KUBECONFIG to use
	$(PY) -m kubetrade_dev.controlplane up

cluster-down: ## Stop the local control plane (and the demo's operator and node)
	@bash hack/demo.sh stop

clean: cluster-down ## Remove local state (not the binary cache)
	rm -rf $(STATE)
