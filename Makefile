# Thin wrapper over CMake/CTest. `make run` and `make test` work on a fresh
# Debian machine: both install what is missing first.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
CONFIG ?= config/config.yaml

.PHONY: all build run test test-unit it fmt lint clean deps coverage bench bench-cluster bench-delivery flamegraph

all: build

deps:
	@tools/deps.sh

$(BUILD_DIR)/CMakeCache.txt:
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS)

run: build
	$(BUILD_DIR)/bin/argus --config $(CONFIG)

# The tests that need PostgreSQL require CTest's "postgres" fixture, which
# starts a throwaway server (tools/pg.sh) before them and removes it after
# them, also when they fail; so `test`, `test-unit` and `it` need no setup.
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS)

test-unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS) -L 'unit|actors'

it: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j$(JOBS) -L integration

fmt:
	@tools/deps.sh --dev
	clang-format -i $$(git ls-files '*.cpp' '*.hpp')

lint: build
	@tools/deps.sh --dev
	clang-tidy -p $(BUILD_DIR) --quiet $$(git ls-files 'domain/*.cpp' 'actors/*.cpp' 'storage/*.cpp' 'http/*.cpp' 'config/*.cpp' 'tools/*.cpp')

coverage: deps
	@tools/deps.sh --dev
	cmake -S . -B build-coverage -DARGUS_COVERAGE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build build-coverage -j$(JOBS)
	cd build-coverage && ctest -j$(JOBS) --output-on-failure
	gcovr -r . build-coverage --filter 'domain/' --filter 'actors/' --filter 'storage/' --filter 'http/' --filter 'config/' --print-summary

# The benchmark suite (tools/bench/run.py, docs/benchmarks.md): builds, runs
# every part including pipeline_bench and durable ingest (a throwaway
# PostgreSQL from tools/pg.sh), prints the table and writes
# $(BUILD_DIR)/bench/results.json, then the delivery, muted-storm,
# held-openings (three times: a DELETE, an endsAt, a child source's
# resolution), retention (SQLite and memory) and cluster benchmarks.
# About 27 minutes; BENCH_QUICK=1
# about 6.
bench: deps $(BUILD_DIR)/CMakeCache.txt
	@tools/bench/install.sh
	BUILD_DIR=$(BUILD_DIR) python3 tools/bench/run.py
	BUILD_DIR=$(BUILD_DIR) python3 tools/bench/delivery.py
	BUILD_DIR=$(BUILD_DIR) python3 tools/bench/muted_storm.py
	BUILD_DIR=$(BUILD_DIR) python3 tools/bench/held_review.py --runs 1
	BUILD_DIR=$(BUILD_DIR) python3 tools/bench/held_review.py --runs 1 --idle 5 --end time
	BUILD_DIR=$(BUILD_DIR) python3 tools/bench/held_review.py --runs 1 --idle 5 --end child
	cmake --build $(BUILD_DIR) -j$(JOBS) --target retention_bench
	$(BUILD_DIR)/bin/retention_bench --backend sqlite --alerts 300000
	$(BUILD_DIR)/bin/retention_bench --backend memory --alerts 1000000
	python3 tools/bench/cluster.py --build-dir $(BUILD_DIR)

bench-cluster: deps $(BUILD_DIR)/CMakeCache.txt
	@tools/bench/install.sh
	python3 tools/bench/cluster.py --build-dir $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR) build-coverage

# Delivery alone (tools/bench/delivery.py): notifications/s, latency at half
# load, ingestion with a dead receiver. About a minute.
bench-delivery: deps $(BUILD_DIR)/CMakeCache.txt
	@tools/bench/install.sh
	BUILD_DIR=$(BUILD_DIR) python3 tools/bench/delivery.py

# A flame graph of the batch path (tools/bench/profile_batch.py): Argus on
# the memory backend under batches of 1,000 events, recorded with perf and
# drawn by tools/bench/flamegraph.py into docs/flamegraph-batch.svg.
flamegraph: $(BUILD_DIR)/CMakeCache.txt
	cmake --build $(BUILD_DIR) -j$(JOBS) --target argus loadgen
	BUILD_DIR=$(BUILD_DIR) python3 tools/bench/profile_batch.py
