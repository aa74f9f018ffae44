# The two commands a newcomer needs: `make demo` and `make test`.
# Each installs missing Debian packages first, then configures (CMake +
# Ninja, see CMakePresets.json) and builds with -j2.
SHELL := /bin/bash
JOBS ?= 2

.PHONY: all build demo test asan tsan deps clean

all: build

deps:
	@scripts/install-deps

# Configures only when the tree has never been configured; afterwards Ninja
# re-runs CMake by itself whenever a CMakeLists.txt changes.
build/build.ninja: | deps
	cmake --preset default

build: deps build/build.ninja
	cmake --build build -j$(JOBS)

demo: build
	scripts/demo

test: build
	scripts/run-tests build

build-asan/build.ninja: | deps
	cmake --preset asan

# ASan+UBSan build of everything, then the whole suite under it.
asan: deps build-asan/build.ninja
	cmake --build build-asan -j$(JOBS)
	scripts/run-tests build-asan

build-tsan/build.ninja: | deps
	cmake --preset tsan

# TSan build; the writer/reader stress test is the one that matters here.
tsan: deps build-tsan/build.ninja
	cmake --build build-tsan -j$(JOBS)
	scripts/run-tests build-tsan

clean:
	rm -rf build build-asan build-tsan
