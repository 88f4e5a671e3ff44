# The two commands: `make demo` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: test demo typecheck clean bench soak

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test,forecast]'
	touch $@

## test: install what the tests need and run the whole suite (PYTEST_ARGS=... to narrow it)
test: $(VENV)/.installed
	scripts/run-tests $(PYTEST_ARGS)

## demo: run wedwatch on the embedded defaults and print where to look
demo: $(VENV)/.installed
	$(PY) -m wedwatch demo

## bench: the benchmarks in bench/ (on demand, over an hour: detect.py ~60 min, retention.py ~10; tables printed, JSON in bench/results/;
## BENCH_ARGS="--profile DIR" profiles the receiver's saturated runs)
bench: $(VENV)/.installed
	@test -x $(VENV)/bin/py-spy || $(PY) -m pip install -q -e '.[bench]'
	@command -v prometheus-blackbox-exporter >/dev/null || { command -v apt-get >/dev/null && \
	  { apt-get install -y -q prometheus-blackbox-exporter || { apt-get update -q && apt-get install -y -q prometheus-blackbox-exporter; }; } } || \
	  echo "bench: no blackbox_exporter and no apt-get; bench/probe_engine.py compares without it"
	$(PY) bench/probe_engine.py
	$(PY) bench/scrape.py
	$(PY) bench/scheduler.py
	$(PY) bench/forecast.py
	$(PY) bench/receiver.py $(BENCH_ARGS)
	$(PY) bench/saturday.py
	$(PY) bench/detect.py $(DETECT_ARGS)
	$(PY) bench/retention.py

## soak: 30 minutes of a simulated Saturday against real Prometheus and Alertmanager (SOAK_ARGS="--minutes 3"); exit 1 on a lost or duplicated action
soak: $(VENV)/.installed
	@{ command -v prometheus && { command -v prometheus-alertmanager || command -v alertmanager; }; } >/dev/null || \
	  { command -v apt-get >/dev/null && { apt-get install -y -q --no-install-recommends prometheus prometheus-alertmanager || \
	    { apt-get update -q && apt-get install -y -q --no-install-recommends prometheus prometheus-alertmanager; }; } } || \
	  echo "soak: Prometheus or Alertmanager missing and no apt-get to install them"
	$(PY) bench/soak.py $(SOAK_ARGS)

## typecheck: mypy --strict over src/
typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .test-postgres build dist src/*.egg-info
