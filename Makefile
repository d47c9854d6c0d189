# labelops developer verbs. `make up` starts everything on embedded defaults; `make test` runs the suite.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: install browser azurite biome ml-backend ls-templates up web dev test screenshots lint lint-js fmt typecheck bench bench-http

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

browser:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# Azurite (the Azure Blob Storage emulator the tests start) from npm, into the ignored build/ folder.
AZURITE := build/azurite/node_modules/.bin/azurite-blob

azurite: $(AZURITE)

$(AZURITE):
	npm install --silent --no-audit --no-fund --prefix build/azurite azurite

# Biome (the JavaScript linter and formatter, biome.json) from npm, into the ignored build/ folder;
# pinned, since a new release may format differently.
BIOME := build/biome/node_modules/.bin/biome

biome: $(BIOME)

$(BIOME):
	npm install --silent --no-audit --no-fund --prefix build/biome @biomejs/biome@2.6.8
# A Label Studio ML backend's own virtualenv (label-studio-ml 1.0.9 pins Flask 1.x), made with the
# standard library's venv and pip into the ignored build/ folder; the ML backend tests run it.
ml-backend: install
	$(BIN)/python -c "from tests.ml_backend_process import backend_venv; backend_venv()"

# Label Studio's released wheel, whose template gallery the gallery tests read in place (never
# copied here): downloaded once by pip into the ignored build/ folder (about 74 MB).
LS_WHEEL := build/ls-wheel/label_studio-1.23.2-py3-none-any.whl

ls-templates: $(LS_WHEEL)

$(LS_WHEEL): $(VENV)/.installed
	$(BIN)/pip download -q --no-deps --only-binary=:all: -d build/ls-wheel label-studio==1.23.2

up: install
	$(BIN)/labelops up

web: install
	$(BIN)/flask --app labelops.web run

dev: install
	$(BIN)/dagster dev -m labelops.definitions

test: install browser azurite biome ml-backend ls-templates
	$(BIN)/pytest -n 2

# Refresh the README's pictures: the browser tests (tests/browser) write them into docs/screenshots/.
screenshots: install browser
	LABELOPS_SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots $(BIN)/pytest -n 2 tests/browser

lint: install lint-js
	$(BIN)/ruff check labelops tests bench
	$(BIN)/ruff format --check labelops tests bench

lint-js: biome
	$(BIOME) check labelops/web/static

fmt: install biome
	$(BIN)/ruff format labelops tests bench
	$(BIN)/ruff check --fix labelops tests bench
	$(BIOME) check --write labelops/web/static

# Strict mypy over the whole package, migrations included; pyproject's [tool.mypy] names the
# untyped libraries one by one and typings/ holds stubs for Flask-Login's parts the code uses.
typecheck: install
	$(BIN)/python -m mypy --strict labelops

bench: install
	$(BIN)/python -m bench --tasks 100000 --db sqlite --db postgres

bench-http: install
	$(BIN)/python -m bench.http --tasks 100000
