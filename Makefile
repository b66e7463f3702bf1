# Developer entry points. `make up` and `make test` are the two commands the
# README promises work on a fresh Debian 12.
BUILD_DIR   ?= build
BUILD_TYPE  ?= RelWithDebInfo
# CI builds treat warnings as errors; always passed so the cache never keeps
# a stale value from an earlier configure.
WERROR      := $(if $(CI),ON,OFF)
CMAKE_FLAGS := -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DMILF_WERROR=$(WERROR)
MILF        := $(BUILD_DIR)/bin/milf
NINJAFLAGS  ?=

# The dashboard (web/) is built by npm into $(BUILD_DIR)/web, where `milf up`
# looks for it and the dashboard's ctest tests (tests/web) expect it.
WEB_OUT     := $(BUILD_DIR)/web
WEB_INDEX   := $(WEB_OUT)/index.html
# npm ci writes this file last: missing or older than the lock means
# web/node_modules does not hold what web/package-lock.json pins.
WEB_MODULES := web/node_modules/.package-lock.json
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) \
               web/index.html web/package.json web/package-lock.json web/tsconfig.json web/vite.config.ts
ASC_MODULES := tools/asc/node_modules/.package-lock.json
NODE_MIN    := 20.19
NODE_MIN_NUM := 2019

.DEFAULT_GOAL := help
.PHONY: help deps build web node-check test up bench clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z]+:.*## / {printf "  make %-6s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## Install the Debian packages needed to build and test (apt-get)
	@scripts/install-deps

build: deps ## Configure (CMake, Ninja) into build/, compile everything, build the dashboard
	@cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) >/dev/null
	@ninja -C $(BUILD_DIR) $(NINJAFLAGS)
	@$(MAKE) --no-print-directory web

web: node-check $(WEB_INDEX) $(ASC_MODULES) ## Build the dashboard into build/web and install the AssemblyScript compiler (npm ci)

node-check:
	@node -e 'const v = process.versions.node.split(".").map(Number); process.exit(v[0] * 100 + v[1] >= $(NODE_MIN_NUM) ? 0 : 1)' 2>/dev/null \
	  && command -v npm >/dev/null || { \
	  echo "make: the dashboard (web/) needs Node.js >= $(NODE_MIN) with npm;" \
	       "found: $$(node --version 2>/dev/null || echo 'no node'), $$(npm --version 2>/dev/null || echo 'no npm')." >&2; \
	  echo "make: Debian 12's nodejs package is 18.x: install Node.js $(NODE_MIN)+ (e.g. the nodejs 20.x .deb) and run make again." >&2; \
	  exit 1; }

$(WEB_MODULES): web/package-lock.json web/package.json | node-check
	cd web && npm ci --no-audit --no-fund
	@touch $@

# The compiler service's AssemblyScript toolchain (docs/compiler.md).
$(ASC_MODULES): tools/asc/package-lock.json tools/asc/package.json | node-check
	cd tools/asc && npm ci --no-audit --no-fund
	@touch $@

$(WEB_INDEX): $(WEB_MODULES) $(WEB_SOURCES) | node-check
	cd web && npm run build -- --outDir "$(abspath $(WEB_OUT))"

test: build ## Build, then run the whole test suite with ctest (the dashboard's Vitest and e2e too)
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j2

up: build ## Build, then run the platform: a server with the dashboard and a local node (milf up)
	@$(MILF) up --listen 127.0.0.1:8080 --data milf-data --slots 2 --examples $(BUILD_DIR)/examples \
	  --web $(WEB_OUT)

bench: build ## Build, then run every benchmark in build/bin/bench_*
	@for bench in $(BUILD_DIR)/bin/bench_*; do \
	  [ -x "$$bench" ] || continue; \
	  printf '\n== %s ==\n' "$$(basename "$$bench")"; \
	  "$$bench" || exit 1; \
	done

clean: ## Remove the build directory
	rm -rf $(BUILD_DIR)
