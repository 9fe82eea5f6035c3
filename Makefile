# berth: `make run` and `make test` are all the set-up a new user needs.
BUILD ?= build
# The fuzzers' own clang build (tests/fuzz); FUZZ_SECONDS is how long `make fuzz` runs each.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 300
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CONFIG ?=
# Debian 12 packages berth builds with.
DEPS := g++ cmake make pkg-config libsqlite3-dev nlohmann-json3-dev rapidjson-dev libcpp-httplib-dev \
        libcli11-dev libtoml11-dev libssl-dev libgtest-dev libgmock-dev libbenchmark-dev libspdlog-dev \
        libgrpc++-dev libprotobuf-dev protobuf-compiler-grpc protobuf-compiler clang libclang-rt-14-dev wrk \
        libpq-dev postgresql

.PHONY: all deps build fuzz-build run test fuzz bench clean

all: build

deps:
	@./scripts/install-deps.sh $(DEPS)

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

run: build
	$(BUILD)/berthd $(if $(CONFIG),--config $(CONFIG),)

$(FUZZ_BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ -DBERTH_FUZZ=ON

fuzz-build: deps $(FUZZ_BUILD)/CMakeCache.txt
	cmake --build $(FUZZ_BUILD) -j$(JOBS) --target fuzzers

# The unit, scenario and integration tests, then each fuzzer for a few seconds over its corpus.
test: build fuzz-build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)
	cd $(FUZZ_BUILD) && ctest --output-on-failure -j$(JOBS) -L fuzz

# Each fuzzer for FUZZ_SECONDS; new inputs go to $(FUZZ_BUILD)/fuzz-corpus, crashes to $(FUZZ_BUILD).
fuzz: fuzz-build
	./scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

bench: build
	./bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD) $(FUZZ_BUILD)
