# The two commands of README.md: `make demo` and `make test`. Everything else is a step of those.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# SQLite first; PostgreSQL too when POSTGRES_URL names a server (CI always sets it).
SQLITE_URL := sqlite:///$(CURDIR)/tests/test.sqlite3

.PHONY: demo test install lint typecheck migrations-check pytest matrix docs screenshots proofs bench package-check clean

$(BIN)/.installed: pyproject.toml
	@echo "== Installing django-accepton and what its demo and tests need into $(VENV)"
	@echo "   (a minute or two on a fresh machine; once only)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --progress-bar off -e '.[dev]' | grep -E '^(Successfully|ERROR)' || true
	@test -x $(BIN)/django-admin || (echo "The installation failed: see pip's messages above." && exit 1)
	touch $@

install: $(BIN)/.installed

demo: install
	$(BIN)/python example_project/manage.py demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy django_accepton

migrations-check: install
	DATABASE_URL=$(SQLITE_URL) $(BIN)/python -m django makemigrations django_accepton --check --dry-run --settings=tests.settings

# The money-path tests run once per sandbox dialect on SQLite (docs/api-calls.md), and under
# the hostile one on PostgreSQL.
pytest: install
	DATABASE_URL=$(SQLITE_URL) $(BIN)/pytest -p no:cacheprovider -m "not postgres" $(PYTEST_ARGS)
	@if [ -n "$$POSTGRES_URL" ]; then \
		echo "== PostgreSQL run (money-path tests under the hostile sandbox dialect)"; \
		DATABASE_URL="$$POSTGRES_URL" $(BIN)/pytest -p no:cacheprovider \
			--accepton-dialects=hostile $(PYTEST_ARGS); \
	else \
		echo "== POSTGRES_URL is not set: the PostgreSQL-only tests (row locks, concurrency) did not run"; \
	fi

# The other lines of the test matrix (docs/testing.md): `pytest` above runs the whole suite on
# .venv's Python and Django; this runs a fast subset (SQLite, no browser, PostgreSQL or Redis)
# on each tox environment below, in .tox/. A Python this machine lacks is reported loudly and
# its Django line runs on another Python instead (.ci/matrix).
MATRIX ?= py312-django60 py313-django61
matrix: install
	PYTHON=$(PYTHON) TOX=$(BIN)/tox .ci/matrix $(MATRIX)

# The documentation site; any Sphinx warning fails the build.
docs: install
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

# The pictures in docs/screenshots/, taken by the browser tests.
screenshots: install
	DATABASE_URL=$(SQLITE_URL) ACCEPTON_SCREENSHOTS=$(CURDIR)/docs/screenshots $(BIN)/pytest -p no:cacheprovider -q -m browser

# The proof suites: reliability and security figures, printed as one table at the end of the
# run (docs/proofs.md). On PostgreSQL when POSTGRES_URL is set, else on SQLite without the
# PostgreSQL-only proofs (row locks, real concurrency).
proofs: install
	@if [ -n "$$POSTGRES_URL" ]; then \
		echo "== proofs on PostgreSQL"; \
		DATABASE_URL="$$POSTGRES_URL" $(BIN)/pytest -p no:cacheprovider -q tests/proofs tests/security $(PYTEST_ARGS); \
	else \
		echo "== POSTGRES_URL is not set: proofs on SQLite, the PostgreSQL-only ones deselected"; \
		DATABASE_URL=$(SQLITE_URL) $(BIN)/pytest -p no:cacheprovider -q -m "not postgres" tests/proofs tests/security $(PYTEST_ARGS); \
	fi

# Performance figures (docs/performance.md): sync, the verification endpoint under gunicorn,
# template tag rendering. Not part of make test; PostgreSQL when POSTGRES_URL is set.
$(BIN)/.bench-installed: pyproject.toml $(BIN)/.installed
	$(BIN)/python -m pip install -q --progress-bar off -e '.[dev,bench]'
	touch $@

bench: $(BIN)/.bench-installed
	$(BIN)/python -m benchmarks --write docs/performance.md $(BENCH_ARGS)

# The wheel as a user installs it: built, its metadata checked, installed into a new virtualenv
# with the core requirements only (no extras), and run there (tests/package/smoke.py).
PACKAGE_DIR := $(CURDIR)/build/package-check
package-check: install
	rm -rf $(PACKAGE_DIR) && mkdir -p $(PACKAGE_DIR)
	$(BIN)/python -m pip wheel -q --no-deps --progress-bar off -w $(PACKAGE_DIR)/dist .
	$(BIN)/twine check --strict $(PACKAGE_DIR)/dist/*.whl
	$(PYTHON) -m venv $(PACKAGE_DIR)/venv
	$(PACKAGE_DIR)/venv/bin/python -m pip install -q --progress-bar off $(PACKAGE_DIR)/dist/*.whl
	cd $(PACKAGE_DIR) && $(PACKAGE_DIR)/venv/bin/python $(CURDIR)/tests/package/smoke.py

test: lint typecheck migrations-check docs package-check pytest matrix

clean:
	rm -rf $(VENV) .tox .mypy_cache .ruff_cache docs/_build build tests/*.sqlite3
