# The two commands: `make demo` and `make test`. Everything they need is installed here.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: test demo typecheck clean

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

## typecheck: mypy --strict over src/
typecheck: $(VENV)/.installed
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .demo .pytest_cache .mypy_cache .test-postgres build dist src/*.egg-info
