# The two commands a newcomer needs: `make demo` and `make check`. Both do all set-up.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: deps configure build check unit integration compat demo bench clean format

deps:
	@bash scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

# Every test: unit, scenarios, integration (root, network namespaces), compat (real Azure clients).
check: build
	@bash scripts/check.sh $(BUILD)

unit: build
	@cd $(BUILD) && ctest -L unit --output-on-failure -j $(JOBS)

demo: build
	@bash scripts/demo.sh $(BUILD)

bench: build
	@bash bench/run.sh $(BUILD)

format:
	@git ls-files '*.h' '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD)
