# TensorWasm: the commands to build, test, benchmark and check the project.
# `make demo` sets up a fresh Debian 12 machine and runs the main job;
# `make ci` sets it up and runs every test (what .ci/run does).

PRESET       ?= default
BUILD        := build/$(PRESET)
JOBS         ?= $(shell nproc)
SPEC_SUITE   ?= $(abspath ../shared/wasm-spec-testsuite)
FUZZ_SECONDS ?= 60
ORACLE_CASES ?= 100000
ORACLE_SEED  ?= $(shell date +%s)
CLANG_FORMAT ?= clang-format-22
CLANG_TIDY   ?= clang-tidy-22
SOURCES       = $(shell git ls-files '*.cpp' '*.h' | grep -v '^build/')

.PHONY: all deps configure build test bench bench-host fmt fmt-check lint \
        check doc doc-check ci clean demo test-asan test-tsan fuzz-smoke fuzz \
        fuzz-server bench-server oracle oracle-gpu

all: build

deps:
	scripts/install-deps.sh

configure:
	cmake --preset $(PRESET) -DTWASM_SPEC_TESTSUITE=$(SPEC_SUITE) >/dev/null

build: configure
	cmake --build --preset $(PRESET) -j $(JOBS)

test: build
	ctest --preset $(PRESET) -j $(JOBS)

# The main job, on a fresh machine: install, build, compile a C kernel to Wasm,
# run it with `twasm run` on the best device here (a GPU where a CUDA driver
# sees one, else the CPU), check its results bit for bit and time it.
demo: deps build
	scripts/demo.sh $(BUILD)

# Import speed, .wasm -> PTX compile time of every example kernel, then the
# CPU backend against Wasmtime and V8 (bench-host, below). The GPU benchmark
# (examples against their nvcc twins) needs a GPU: see bench/README.md.
bench: build
	$(BUILD)/bin/twasm-bench-import
	$(BUILD)/bin/twasm-bench-compile $(BUILD)/examples/kernels/*.wasm
	python3 bench/host/compare.py --build-dir $(BUILD)

# The CPU backend against Wasmtime and V8 on the loop kernels of
# bench/host/kernels and two example kernels, single-threaded (about 30 s);
# builds only what it runs.
# Wasmtime and node come from `make deps`.
bench-host: configure
	cmake --build --preset $(PRESET) -j $(JOBS) \
	  --target twasm-bench-host host-bench-kernels
	python3 bench/host/compare.py --build-dir $(BUILD)

fmt:
	$(CLANG_FORMAT) -i $(SOURCES)

fmt-check:
	$(CLANG_FORMAT) --dry-run -Werror $(SOURCES)

lint: configure
	$(CLANG_TIDY) -p $(BUILD) --quiet \
	  $(filter dialects/% compiler/% tools/%,$(filter %.cpp,$(SOURCES)))

# Regenerates the dialect and pass documentation into docs/dialect.
doc: build
	scripts/generated-docs.sh $(BUILD) update

doc-check: build
	scripts/generated-docs.sh $(BUILD) check

check: fmt-check doc-check

# The ASan + UBSan build (with the libFuzzer targets) and its tests.
test-asan:
	$(MAKE) PRESET=asan test

# ThreadSanitizer on the runtime's concurrent paths: the tenancy tests,
# with their stress run at full size (16 threads x 8 tenants x 1,000
# launches), built alone and run on the default build's kernels.
test-tsan:
	$(MAKE) PRESET=default build
	$(MAKE) PRESET=tsan configure
	cmake --build --preset tsan --target twasm-tenancy-tests -j $(JOBS)
	TWASM_TEST_KERNEL_DIR=$(abspath build/default/test/unit) \
	  TWASM_TENANCY_STRESS_LAUNCHES=1000 TSAN_OPTIONS=halt_on_error=1 \
	  build/tsan/bin/twasm-tenancy-tests

fuzz-smoke:
	$(MAKE) PRESET=asan configure
	cmake --build --preset asan --target twasm-import-fuzzer \
	  twasm-artifact-manifest-fuzzer twasm-snapshot-fuzzer -j $(JOBS)
	scripts/fuzz.sh build/asan $(FUZZ_SECONDS)

# A longer fuzzing run, e.g. `make fuzz FUZZ_SECONDS=1800`.
fuzz: fuzz-smoke

# The HTTP API fuzzed from its OpenAPI document by Schemathesis on the cpu
# device: at least 1,000 generated requests, no server error, every answer
# as documented (test/server/fuzz.py; about 2 minutes).
fuzz-server: build
	python3 test/server/fuzz.py --twasm $(BUILD)/bin/twasm \
	  --kernels $(BUILD)/test/unit --openapi docs/openapi.yaml --examples 100

# 64 clients invoking saxpy through the HTTP API for 30 s on the cpu device:
# latency, throughput, errors, memory (bench/server/load_bench.py).
bench-server: build
	python3 bench/server/load_bench.py --serve $(BUILD)/bin/twasm-serve \
	  --twasm $(BUILD)/bin/twasm --artifact $(BUILD)/bench/server/saxpy.twa \
	  --publisher $(BUILD)/bench/server/saxpy-publisher.pub --seconds 30

# The differential oracle at scale (docs/testing.md): ORACLE_CASES random
# kernels on the CPU backend against wabt's interpreter, one process per
# core; divergences, shrunk, in build/oracle/failures-*. `make test` runs
# 2,000 of a fixed seed (ctest oracle-cpu).
oracle: configure
	cmake --build --preset $(PRESET) -j $(JOBS) --target twasm-oracle
	scripts/oracle.sh $(BUILD) $(ORACLE_CASES) $(ORACLE_SEED) $(JOBS) cpu \
	  build/oracle

# The same cases compiled for an H100 with wabt's outcomes, packed for the
# GPU machine (build/oracle-gpu/batches.tar.xz), where
# test/oracle/replay-on-gpu.sh runs them with twasm-oracle-replay.
oracle-gpu: configure
	cmake --build --preset $(PRESET) -j $(JOBS) \
	  --target twasm-oracle twasm-oracle-replay
	scripts/oracle.sh $(BUILD) $(ORACLE_CASES) $(ORACLE_SEED) $(JOBS) sm_90 \
	  build/oracle-gpu

ci: deps
	$(MAKE) build test check
	$(MAKE) test-asan
	$(MAKE) test-tsan
	$(MAKE) fuzz-smoke
	$(MAKE) fuzz-server

clean:
	rm -rf build
