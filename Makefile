# cx311: the 311 customer-experience pipeline. `make help` lists the targets.
YEAR   ?= 2024
MONTH  ?=
RAW    ?= raw
# --raw only when RAW was given: only the repository's own raw/ ever gets the demo data
RAW_ARG := $(if $(filter command line environment,$(origin RAW)),--raw $(RAW))
OUTPUT ?= output
SCALE  ?= 1
PORT   ?= 8000
PYTHON ?= python3
# What runs the dbt models: duckdb (in-process, the default) or spark (local Spark: the spark
# extra is installed on first use; needs Java 17). The documents are the same.
ENGINE ?= duckdb

VENV  := .venv
BIN   := $(VENV)/bin
STAMP := $(VENV)/.installed
SPARK_STAMP  := $(VENV)/.installed-spark
ENGINE_STAMP := $(if $(filter spark,$(ENGINE)),$(SPARK_STAMP))
CX    := $(BIN)/python -m pipeline
# The test suites run on JOBS pytest-xdist workers, one test module per worker at a time
# (tests/conftest.py); JOBS=1 runs them in one process.
JOBS  ?= 2
PYTEST := $(BIN)/python -m pytest -q $(if $(filter-out 1,$(JOBS)),-n $(JOBS))
# the unit and integration layers use no Hypothesis: its pytest plugin would cost 1.2 s a process
LAYERS := $(PYTEST) -p no:hypothesispytest

.PHONY: help install lock lock-check report preview load demo-data docs test test-fast test-all lint clean bia bia-send bench bench-baseline

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

# Installs exactly the lock (requirements/, made by `make lock`) into a new .venv: no package
# is resolved here, every file is checked against its hash, and nothing left from an older lock
# stays in the environment. --no-deps: the lock holds every dependency already (pip 23's hash
# mode would refuse a dependency named with extras, such as dbt's mashumaro[msgpack]); `pip check`
# then proves that nothing is missing.
LOCKED = $(BIN)/pip install --quiet --require-hashes --no-deps -r $(1) && $(BIN)/pip check --quiet

$(STAMP): pyproject.toml requirements/default.txt requirements/test.txt
	$(PYTHON) requirements/lock.py check
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(call LOCKED,requirements/test.txt)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	# the package's bytecode, as pip writes it for the libraries: an editable install leaves it to
	# the first run, which never writes it under PYTHONDONTWRITEBYTECODE (as in many containers):
	# then every run compiled its 49 modules again, 0.12 s of a 2 s rerun
	$(BIN)/python -m compileall -q pipeline
	touch $(STAMP)

install: $(STAMP)  ## create .venv and install the lock: the pipeline and its test tools

lock:  ## resolve pyproject.toml's dependencies again into requirements/*.txt (needs the package index)
	$(if $(wildcard $(BIN)/python),$(BIN)/python,$(PYTHON)) requirements/lock.py compile

lock-check:  ## fail when pyproject.toml and the lock (requirements/*.txt) disagree
	$(PYTHON) requirements/lock.py check

$(SPARK_STAMP): $(STAMP) requirements/spark.txt
	$(call LOCKED,requirements/spark.txt)
	touch $(SPARK_STAMP)

report: $(STAMP) $(ENGINE_STAMP)  ## annual report for YEAR (demo data when RAW holds no extracts; FINAL=1 refuses a draft)
	$(CX) report --year $(YEAR) $(RAW_ARG) --output $(OUTPUT) --engine $(ENGINE)$(if $(filter 1 yes true,$(FINAL)), --final)

preview: $(STAMP) $(ENGINE_STAMP)  ## live HTML preview of YEAR's documents (MONTH=: and its BIA reports) on http://127.0.0.1:PORT/
	$(CX) preview --year $(YEAR)$(if $(MONTH), --month $(MONTH)) $(RAW_ARG) --output $(OUTPUT) --engine $(ENGINE) --port $(PORT)

bia: $(STAMP) $(ENGINE_STAMP)  ## BIA monthly reports for MONTH=YYYY-MM into OUTPUT/bia/MONTH
	@test -n "$(MONTH)" || { echo "usage: make bia MONTH=2024-07" >&2; exit 2; }
	$(CX) bia --month $(MONTH) $(RAW_ARG) --output $(OUTPUT) --engine $(ENGINE)

bia-send: $(STAMP)  ## e-mail the BIA reports of MONTH (.eml outbox; SEND=1 sends via SMTP_*)
	@test -n "$(MONTH)" || { echo "usage: make bia-send MONTH=2024-07 [SEND=1]" >&2; exit 2; }
	$(CX) bia-send --month $(MONTH) $(RAW_ARG) --output $(OUTPUT)$(if $(filter 1 yes true,$(SEND)), --send)

load: $(STAMP) $(ENGINE_STAMP)  ## load RAW into the warehouse and run dbt build (ENGINE=spark: the models on Spark)
	$(CX) load $(RAW_ARG) --output $(OUTPUT) --engine $(ENGINE)

bench: $(STAMP) $(ENGINE_STAMP)  ## time every stage on demo data at SCALE into OUTPUT/bench (SKIP=report,bia,incremental,e2e,mapped; ENGINE=spark; REPEAT=3: runs of each floor and budget stage, median kept)
	$(BIN)/python -m benchmarks.bench --scale $(SCALE) --out $(OUTPUT)/bench --engine $(ENGINE)$(if $(SKIP), --skip $(SKIP))$(if $(REPEAT), --repeat $(REPEAT))

bench-baseline: $(STAMP)  ## make the last `make bench SCALE=` (DuckDB) the committed baseline and rewrite the README's Performance tables
	$(BIN)/python -m benchmarks.baseline --scale $(SCALE) --out $(OUTPUT)/bench

demo-data: $(STAMP)  ## generate the synthetic demo data set into RAW
	$(CX) demo-data --raw $(RAW) --scale $(SCALE)

docs: $(STAMP)  ## dbt documentation site (static, offline) into OUTPUT/docs
	$(CX) docs --output $(OUTPUT)

test: lock-check lint  ## the everyday suite: lint, unit layer, integration layer (real dbt, WeasyPrint, Chromium)
	$(LAYERS) tests/unit tests/integration

test-fast: $(STAMP)  ## the unit layer only (no dbt, no WeasyPrint, no browser): seconds
	$(LAYERS) tests/unit

test-all: lock-check lint $(SPARK_STAMP)  ## everything: the everyday suite and the slow suites (benchmark smoke run, Spark parity)
	$(PYTEST) tests

lint: $(STAMP)  ## ruff on the Python, sqlfluff on the dbt models
	$(BIN)/ruff check pipeline tests benchmarks
	cd dbt_project && ../$(BIN)/sqlfluff lint models --disable-progress-bar --nocolor --processes $(JOBS)

clean:  ## remove generated state (output/, dbt target) and the unchanged demo files (never real extracts)
	rm -rf $(OUTPUT) dbt_project/target dbt_project/logs
	if [ -x $(BIN)/python ]; then $(CX) demo-data --remove --raw $(RAW); fi
