# Thin wrapper over CMake. Every target installs missing Debian packages first.
BUILD ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: deps build demo test test-asan bench fuzz notebooks clean package

deps:
	@scripts/install-deps

$(BUILD)/CMakeCache.txt: | deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null

build: deps $(BUILD)/CMakeCache.txt
	@cmake --build $(BUILD) -j$(JOBS)

# The Debian package (CPack): $(BUILD)/flowlier_<version>_<arch>.deb
package: build
	@cd $(BUILD) && cpack -G DEB

demo: build
	@scripts/demo

test: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

# Unit tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFLOWLIER_SANITIZE=ON -DFLOWLIER_BENCH=OFF >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)
	@cd $(ASAN_BUILD) && ctest --output-on-failure -j$(JOBS) -LE integration

# Executes every notebook headless (nbconvert --execute) against the fresh build.
notebooks: build
	@cd $(BUILD) && ctest --output-on-failure -R 'notebook'

bench: build
	@bench/run-all

fuzz: deps
	@CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFLOWLIER_FUZZ=ON >/dev/null
	@cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzz_all
	@scripts/run-fuzzers $(FUZZ_BUILD) $(FUZZ_SECONDS)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
