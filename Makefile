# Everything a fresh clone needs: `make synth` and `make test` install what they use first.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# node_modules/.bin first: the pinned CDK CLI and the pinned Node.js 22 (package.json), which
# jsii and the CLI support, whatever Node the machine has. `npx cdk ...` outside make does the same.
export PATH := $(CURDIR)/$(BIN):$(CURDIR)/node_modules/.bin:$(PATH)
# The CLI's own notices and telemetry need the network.
export CDK_DISABLE_CLI_TELEMETRY := true
export AWS_CDK_NOTICES := false

PY_STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
# The web clients (web/<client>/dist, which the stacks deploy) are rebuilt only when a source
# file under web/ or the lock changed; the stamp lives in node_modules, so `make clean` resets it.
WEB_STAMP := node_modules/.web-built
WEB_SOURCES := $(shell find web -type d \( -name dist -o -name node_modules \) -prune -o -type f -print 2>/dev/null)

.PHONY: install web synth lint lock test bench deploy clean local

install: $(PY_STAMP) $(NODE_STAMP) $(WEB_STAMP)

$(PY_STAMP): requirements.txt requirements-dev.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	@touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## Build the three web clients into web/<client>/dist (esbuild; part of `make install`).
web: $(WEB_STAMP)

$(WEB_STAMP): $(NODE_STAMP) package-lock.json $(WEB_SOURCES)
	node web/build.mjs
	@touch $@

## Synthesize every stack into cdk.out/ (cdk-nag runs inside synth), then lint the templates.
synth: install
	rm -rf cdk.out
	cdk synth --quiet --no-notices
	$(MAKE) --no-print-directory lint
	@$(BIN)/python scripts/synth_summary.py cdk.out

## cfn-lint over every synthesized template (any error or warning fails), ruff over our Python
## (rules in ruff.toml), and a check that every Lambda lock is what its requirements.in compiles
## to. CI runs them once, through `make synth`.
lint:
	cfn-lint --non-zero-exit-code informational -- cdk.out/*.template.json
	ruff check --no-cache .
	$(BIN)/python scripts/lock_lambda_deps.py --check

## Recompile every Lambda dependency lock (requirements.txt) from its requirements.in.
lock: $(PY_STAMP)
	$(BIN)/python scripts/lock_lambda_deps.py

test: install
	$(BIN)/python -m pytest -n auto

## Every API of the suite on loopback, no AWS account (docs/local.md); Ctrl-C stops it all.
## Its synth output is its own assembly (.cache/local/cdk.out: the templates with the local web
## origins), synthesized by `python -m local` when stale, so `make local` needs only the install.
local: install
	$(BIN)/python -m local

## Every benchmark: synth wall time (suite vs an empty app), Ask Around Me radius search cost.
bench: install
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script; done

## Deploy stacks with your AWS credentials: make deploy STACKS="UrlShortener UrlShortenerEdgeMonitoring" REGION=eu-west-1
## (each region bootstrapped once: npx cdk bootstrap aws://<account>/<region>).
deploy: install
	@test -n "$(STACKS)" || { echo 'make deploy needs STACKS="<stack> ...", e.g. STACKS=AskAroundMe (see `npx cdk ls`)' >&2; exit 2; }
	cdk deploy $(if $(REGION),-c region=$(REGION)) $(STACKS)

clean:
	rm -rf cdk.out .pytest_cache .cache $(VENV) node_modules web/*/dist test-artifacts
