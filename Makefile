# Two commands do all set-up on a fresh machine: `make demo` and `make test`. Both create or refresh .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEVICE ?= local
PYTEST_ARGS ?=
CHROMIUM := /usr/bin/chromium

.PHONY: install test test-fast lint demo export-all bench perf clean

install: $(STAMP)

# Re-installs only when the dependency declarations change, so `make test` stays quick when up to date.
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

test: install $(CHROMIUM)
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The unit tests only (under a minute): everything not marked slow (conversions, exports, training).
test-fast: install
	$(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

# The HTML report test opens pages in Debian's chromium (browser downloads are not reachable; CI runs as root).
$(CHROMIUM):
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

lint: install
	$(BIN)/ruff check seaformer_deploy tests benchmarks export bench scripts

demo: install
	$(BIN)/python -m seaformer_deploy.cli.demo --output-dir build/demo

# Every shipped configuration in export/ (one recipe file each); artifacts and reports land in build/export.
export-all: install
	@for recipe in export/*.json; do \
		echo "== $$recipe"; $(BIN)/seaformer-export --recipe $$recipe --output-dir build/export || exit 1; \
	done

# The standard benchmark suite of bench/ on DEVICE (local, adb or adb:SERIAL); reports land in build/bench.
bench: install
	$(BIN)/seaformer-bench suite bench/standard.json --device $(DEVICE) --output-dir build/bench

# Export time and artifact size of every variant and format, int8 parity on random vs demo weights, and the
# side-by-side latency table of perf.py (benchmarks, not tests).
perf: install
	$(BIN)/python benchmarks/export_times.py --output build/perf/export_times.json
	$(BIN)/python benchmarks/int8_weights.py --output build/perf/int8_weights.json
	$(BIN)/python benchmarks/regression_calibration.py --output build/perf/regression_calibration.json
	$(BIN)/python benchmarks/perf.py --output build/perf/perf.json
	$(BIN)/python benchmarks/label_methods.py --output build/perf/label_methods.json

clean:
	rm -rf build .pytest_cache
