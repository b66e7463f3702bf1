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

up: build ## Build, then run every example lambda with `milf run`
	@for wasm in $(BUILD_DIR)/examples/*.wasm; do \
	  name=$$(basename "$$wasm" .wasm); \
	  printf '\n== %s ==\n' "$$name"; \
	  case "$$name" in \
	    echo)           printf 'echo from MILF\n' | $(MILF) run "$$wasm" --stdin - ;; \
	    sha256)         printf 'abc' | $(MILF) run "$$wasm" --stdin - ;; \
	    json_transform) printf '{"name":"demo","values":[1,2,3.5]}' | $(MILF) run "$$wasm" --stdin - ;; \
	    wordcount)      $(MILF) run "$$wasm" --dir $(CURDIR)/examples:/in:ro ;; \
	    wasm_main)      printf 'shout this\n' | $(MILF) run "$$wasm" --invoke wasm_main --stdin - ;; \
	    *)              $(MILF) run "$$wasm" </dev/null ;; \
	  esac || echo "(exit status $$?)"; \
	done

bench: build ## Build, then run every benchmark in build/bin/bench_*
	@for bench in $(BUILD_DIR)/bin/bench_*; do \
	  [ -x "$$bench" ] || continue; \
	  printf '\n== %s ==\n' "$$(basename "$$bench")"; \
	  "$$bench" || exit 1; \
	done

clean: ## Remove the build directory
	rm -rf $(BUILD_DIR)
