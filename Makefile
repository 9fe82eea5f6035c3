# berth: `make run` and `make test` are all the set-up a new user needs.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CONFIG ?=
# Debian 12 packages berth builds with.
DEPS := g++ cmake make pkg-config libsqlite3-dev nlohmann-json3-dev libcpp-httplib-dev \
        libcli11-dev libtoml11-dev libssl-dev libgtest-dev libgmock-dev libbenchmark-dev wrk

.PHONY: all deps build run test bench clean

all: build

deps:
	@./scripts/install-deps.sh $(DEPS)

$(BUILD)/CMakeCache.txt: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j$(JOBS)

run: build
	$(BUILD)/berthd $(if $(CONFIG),--config $(CONFIG),)

test: build
	cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

bench: build
	./bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD)
