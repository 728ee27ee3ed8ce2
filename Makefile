# The two commands: `make demo` and `make test`. Each creates ./.venv from the
# lock file when it is missing, so a fresh clone needs nothing else.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-fast lint lock bench clean serve

# --compile-bytecode: uv writes no .pyc by default, and where PYTHONDONTWRITEBYTECODE is
# set (as on the build machines) every process then compiles its imports from source:
# 12 of the 27 s of a `leadops score`, `import great_expectations` 13.6 s instead of 4.0.
$(STAMP): requirements.lock pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==0.13.9"
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -r requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/leadops demo --fresh

# Two workers, a test file to a worker (a file's tests share its fixtures and order), in
# collection order (not largest file first): the 26-week demo test is collected first
# (tests/conftest.py), so the other worker runs the rest of the suite beside it.
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder --durations=15

# Static gates: ruff's rules (B, SIM, ARG among them), its formatting, and mypy on the core.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

test-fast: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile -m "not slow and not integration"

serve: $(STAMP)
	$(BIN)/leadops serve

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b; done

# Re-resolve requirements.in into the lock (needs the registry); commit both.
lock:
	$(BIN)/uv pip compile requirements.in -o requirements.lock --python-version 3.11

clean:
	rm -rf leadops-home
