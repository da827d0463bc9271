# Supolka: `make run` runs the bot, `make test` checks everything. Both set themselves up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
.PHONY: run test lint typecheck pytest catalogs messages console clean bench bench-quick bench-stats

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

## catalogs: compile locales/*/LC_MESSAGES/messages.po into .mo (build output, not committed)
catalogs: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d locales -D messages --statistics 2>&1 | grep -v '^$$' || true
	$(BIN)/python -m bot compile-catalogs >/dev/null

## run: the bot against Telegram with SUPOLKA_BOT_TOKEN, else the console simulator
run: catalogs
	$(BIN)/python -m bot migrate
	$(BIN)/python -m bot run

## console: the console simulator, whatever the token
console: catalogs
	$(BIN)/python -m bot console

## test: lint, types and the test suite; non-zero on any failure
test: lint typecheck pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: catalogs
	$(BIN)/pytest -q

## messages: re-extract messages.pot from the code and merge it into the three catalogs
messages: $(STAMP)
	$(BIN)/python -m bot extract-messages
	$(BIN)/pybabel update --no-wrap -i locales/messages.pot -d locales -D messages

## bench: every benchmark of issue 8 at full size (bench/RESULTS.md has the targets)
bench: catalogs
	$(BIN)/python -m bench.throughput 10000 20000 5
	$(BIN)/python -m bench.per_kind 2000 1500
	$(BIN)/python -m bench.offered_load 5000 5 3 200 500 1000
	$(BIN)/python -m bench.matching 200 1000 10000 100000
	$(BIN)/python -m bench.fanout 300
	$(BIN)/python -m bench.startup 5
	$(BIN)/python -m bench.memory 100000 5000 20000
	$(BIN)/python -m bench.stats_report

## bench-quick: smaller variants, in under a minute (matching only up to 10,000 aliases)
bench-quick: catalogs
	$(BIN)/python -m bench.throughput 2000 3000 3
	$(BIN)/python -m bench.offered_load 1000 1.5 1 200 500 1000 --quick
	$(BIN)/python -m bench.matching 100 1000 10000
	$(BIN)/python -m bench.fanout 300
	$(BIN)/python -m bench.startup 1
	$(BIN)/python -m bench.memory 100000 1000 3000

## bench-stats: one week's report over 1,000,000 events (target < 2 s)
bench-stats: catalogs
	$(BIN)/python -m bench.stats_report

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache locales/*/LC_MESSAGES/*.mo
