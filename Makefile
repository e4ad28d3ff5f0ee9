# Thin wrapper over CMake. Every target installs missing Debian packages first.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: deps build demo test test-asan bench fuzz notebooks notebooks-update clean package

deps:
	@scripts/install-deps

$(BUILD)/CMakeCache.txt: | deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null

build: deps $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j$(JOBS)

# The Debian package (CPack): $(BUILD)/flowlier_<version>_<arch>.deb
package: build
	@cd $(BUILD) && cpack -G DEB

# Builds only the binary, with one line of progress (the log: $(BUILD)/quiet-build.log).
demo: deps $(BUILD)/CMakeCache.txt
	@scripts/quiet-build $(BUILD) $(JOBS) flowlier
	@scripts/demo $(BUILD)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# Unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFLOWLIER_SANITIZE=ON -DFLOWLIER_BENCH=OFF >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j$(JOBS) -LE integration

# Re-executes every notebook headless against the fresh build and fails when a
# committed output is stale (the same check `make test` runs).
notebooks: build
	@cd $(BUILD) && ctest --output-on-failure -R '^notebook_'

# Re-executes every notebook and rewrites notebooks/*.ipynb with the fresh outputs
# (plots included): run it after a change to detection, then commit the notebooks.
notebooks-update: deps $(BUILD)/CMakeCache.txt
	@scripts/quiet-build $(BUILD) $(JOBS) flowlier
	@FLOWLIER_BINARY=$(abspath $(BUILD))/flowlier scripts/notebooks --update

bench: build
	@bench/run-all

fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFLOWLIER_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_all
	@scripts/run-fuzzers $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
