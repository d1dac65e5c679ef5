# Two commands on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: install lock test lint typecheck pytest demo samples clean messages screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# constraints.txt pins every package the tests ran with, so a fresh machine next month gets
# what passed today; `make lock` rewrites it on purpose (review the diff before committing).
$(STAMP): $(BIN)/python pyproject.toml constraints.txt
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

lock: $(BIN)/python
	$(BIN)/pip install --quiet --upgrade -e '.[test]'
	$(BIN)/pip freeze --exclude-editable | grep -v '^cartflow' > constraints.txt

lint: install
	$(BIN)/ruff check cartflow tests benchmarks

typecheck: install
	$(BIN)/mypy

# The whole suite on SQLite, then the clinic's and the trust suite's database tests again on PostgreSQL
# (DATABASE_URL when set, else a throwaway server; that pass fails if it collects nothing).
# The browser tests need Debian's Chromium: installed here when missing (as root), and
# required (a missing browser fails instead of skipping).
pytest: install
	./scripts/ensure-chromium.sh
	CARTFLOW_REQUIRE_BROWSER=1 $(BIN)/pytest
	CARTFLOW_TEST_DB=postgres $(BIN)/pytest tests/clinic tests/trust

test: lint typecheck pytest

# The translation catalogues: gather the marked strings into the .po sources, then compile
# them. The compiled .mo files are committed, so serving Chinese needs no GNU gettext; this
# target (and the test that the .mo files are current) needs msgfmt, which
# scripts/ensure-chromium.sh installs with the browser.
messages: install
	cd cartflow && CARTFLOW_DATA=$(CURDIR)/data ../$(BIN)/django-admin makemessages --settings=cartflow.settings -l zh_Hans --no-obsolete --add-location file
	cd cartflow && CARTFLOW_DATA=$(CURDIR)/data ../$(BIN)/django-admin compilemessages --settings=cartflow.settings

# The staff pages (from the browser journey) and the patient view at phone width in English
# and Chinese, into docs/screenshots (tracked files: only this target writes them, never
# the tests).
screenshots: install
	./scripts/ensure-chromium.sh
	CARTFLOW_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/pytest tests/browser/test_journey.py
	$(BIN)/python scripts/patient_screenshots.py

# `make demo PORT=8080` serves elsewhere.
demo: install
	$(BIN)/cartflow demo --port $(PORT)

# Sample label PNGs and a sample FHIR Bundle in docs/samples (tests never write them).
samples: install
	$(BIN)/python scripts/make_samples.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
