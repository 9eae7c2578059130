# paper2code — the two commands a new user needs are `make generate PAPER=x.pdf` and `make test`.
# Both create the virtualenv and install what they need on first use.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PAPER  ?=
OUT    ?=
SOURCE ?=
MODEL  ?=
ARGS   ?=
PYTEST_ARGS ?=

.PHONY: install generate test test-fast lint format demo sandbox-image clean help

help:
	@echo "make generate PAPER=x.pdf|arxiv:ID [SOURCE=src.tar.gz] [OUT=dir] [MODEL=name] [ARGS='...']  run the whole pipeline"
	@echo "make test          install (first use) and run every test"
	@echo "make test-fast     the tests that need no Docker daemon"
	@echo "make lint          ruff check + ruff format --check"
	@echo "make demo          offline demo: scripted model replies, real Docker sandbox"
	@echo "make sandbox-image build the sandbox base image (offline with debootstrap when pulls fail)"
	@echo "make clean         remove the virtualenv, caches and runs/"

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

generate: $(STAMP)
	@test -n "$(PAPER)" || { echo "usage: make generate PAPER=path/to/paper.pdf [OUT=dir] [MODEL=name]"; exit 2; }
	$(BIN)/paper2code generate "$(PAPER)" $(if $(SOURCE),--source "$(SOURCE)") $(if $(OUT),--out "$(OUT)") $(if $(MODEL),--model "$(MODEL)") $(ARGS)

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/python -m pytest -m "not docker and not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

demo: $(STAMP)
	@$(MAKE) --no-print-directory sandbox-image ARGS=--if-missing
	$(BIN)/paper2code demo $(if $(OUT),--out "$(OUT)") $(ARGS)

# Pull-based build first; where pulls fail, build offline from Debian packages (debootstrap).
sandbox-image: $(STAMP)
	$(BIN)/paper2code sandbox build-base $(ARGS) || $(BIN)/paper2code sandbox build-base --offline $(ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build *.egg-info runs
