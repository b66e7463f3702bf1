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

.DEFAULT_GOAL := help
.PHONY: help deps build test up bench clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z]+:.*## / {printf "  make %-6s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

deps: ## Install the Debian packages needed to build and test (apt-get)
	@scripts/install-deps

build: deps ## Configure (CMake, Ninja) into build/ and compile everything
	@cmake -S . -B $(BUILD_DIR) $(CMAKE_FLAGS) >/dev/null
	@ninja -C $(BUILD_DIR) $(NINJAFLAGS)

test: build ## Build, then run the whole test suite with ctest
	@ctest --test-dir $(BUILD_DIR) --output-on-failure -j2

up: build ## Build, then run the platform: a server and a local node in one process (milf up)
	@$(MILF) up --listen 127.0.0.1:8080 --data milf-data --slots 2 --examples $(BUILD_DIR)/examples

bench: build ## Build, then run every benchmark in build/bin/bench_*
	@for bench in $(BUILD_DIR)/bin/bench_*; do \
	  [ -x "$$bench" ] || continue; \
	  printf '\n== %s ==\n' "$$(basename "$$bench")"; \
	  "$$bench" || exit 1; \
	done

clean: ## Remove the build directory
	rm -rf $(BUILD_DIR)
