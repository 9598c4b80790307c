# Two commands are the whole setup:  `make lab`  and  `make test`.
# Both create/refresh .venv only when a requirements file changed, so the second run is fast.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
# Tests always use the offline simulator, whatever the caller's shell says: no surprise spend.
# Compiled modules are cached (__pycache__, git-ignored) even where the shell says not to
# (PYTHONDONTWRITEBYTECODE): else every test process, kernel and CLI run compiles the course
# again, and pytest re-parses and rewrites every test file in every worker (~5 s each).
TEST_ENV := COURSE_BACKEND=simulator MPLBACKEND=Agg PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=
# nbval is needed only to execute the exercises (make notebooks); loaded, it costs each test
# process 2 s (nbformat's jsonschema compiles a URI grammar).
NO_NBVAL := -p no:nbval

.PHONY: lab lab-command binder-link lite test test-fast lint unit notebooks browser exercises bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# The course's own JupyterLab settings (lab-settings/: no "Jupyter news" pop-up over the first
# screen) go where JupyterLab reads defaults: the environment's overrides.d.
LAB_OVERRIDES := $(VENV)/share/jupyter/lab/settings/overrides.d/course.json
$(VENV)/.installed-course: $(BIN)/python requirements.txt pyproject.toml lab-settings/overrides.json
	$(BIN)/pip install --quiet -r requirements.txt
	mkdir -p $(dir $(LAB_OVERRIDES)) && cp lab-settings/overrides.json $(LAB_OVERRIDES)
	@touch $@

$(VENV)/.installed-dev: $(VENV)/.installed-course requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	@touch $@

## make lab: set up and open the course on its start page (offline simulator, no key needed)
# The start page is a plain path, with no query string of its own: Jupyter appends `?token=...`
# to it in the URL it prints, and a copied URL must log in (containers, WSL, remote machines).
# JupyterLab serves the repository root, so the file browser's home icon shows notebooks/,
# exercises/ and solutions/. It refuses to start as root (common in containers and classroom
# images) unless told. tests_browser/ starts JupyterLab with exactly this command (`make lab-command`).
LAB_START := /lab/tree/notebooks/00_start_here.ipynb
LAB_FLAGS := $(if $(filter 0,$(shell id -u)),--allow-root)
LAB_CMD = $(BIN)/jupyter lab --ServerApp.root_dir=. '--LabApp.default_url=$(LAB_START)' $(LAB_FLAGS)
lab: $(VENV)/.installed-course
	$(LAB_CMD)

# The command `make lab` runs, printed (installs nothing); the browser suite starts it.
lab-command:
	@echo "$(LAB_CMD)"

## make binder-link: the Binder launch link and badge for this repository's GitHub remote
# Binder builds from runtime.txt + requirements.txt alone (no make); the link opens lesson 00.
REPO_DIR ?= .
binder-link:
	@remote=$$(git -C $(REPO_DIR) remote get-url origin 2>/dev/null); \
	slug=$$(printf '%s' "$$remote" | sed -nE 's#^(https://|git@)github\.com[:/]([^/]+/[^/]+)$$#\2#p' | sed 's/\.git$$//'); \
	if [ -z "$$slug" ]; then \
		echo "no GitHub remote named origin in $(REPO_DIR) (git remote add origin https://github.com/OWNER/REPO)"; exit 1; \
	fi; \
	link="https://mybinder.org/v2/gh/$$slug/HEAD?urlpath=lab/tree/notebooks/00_start_here.ipynb"; \
	echo "$$link"; \
	echo "[![Launch on Binder](https://mybinder.org/badge_logo.svg)]($$link)"

## make lite: build the course as a static JupyterLite site in lite/_site (git-ignored)
# Everything comes from the registries at build time (npm's pyodide, PyPI's wheels): see lite/build.py.
lite: $(VENV)/.installed-lite
	$(BIN)/python lite/build.py --out lite/_site

## make test: set up and run every test (lint, unit, simulator, exercise checks, notebooks,
## and the browser suite where Chromium is installed)
# The unit suite, whose lessons wait on a simulated clock and leave a quarter of the CPU idle,
# runs beside the lint and the exercises; each part prints its output when it ends. Then the
# browser suite, which keeps both cores busy (Chromium), runs alone. (All four side by side
# once met load 10, and 14 of lesson 05's paced requests got a 429 against its "not one 429".)
test: $(VENV)/.installed-dev
	@echo "make test: unit, lint and notebooks run side by side; each prints when it ends"
	@$(MAKE) --no-print-directory -j3 --output-sync=target unit lint notebooks
	@$(MAKE) --no-print-directory browser

## make test-fast: the inner loop, under a minute: unit and simulator tests, no notebook
## executed, no browser (tests marked slow, pyproject.toml, run only in `make test`)
test-fast: $(VENV)/.installed-dev
	$(TEST_ENV) $(BIN)/pytest $(NO_NBVAL) -n 2 -m "not slow" tests

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy  # course_utils, course_simulator, course_checks (pyproject.toml)
	$(BIN)/lint-imports --no-logo

# Three workers, each given a test or two at a time (--maxschedchunk 1; by default xdist hands
# out blocks of hundreds in collection order, so one worker ran every lesson, one after another).
# conftest.py collects the whole lessons first: they start at once on all three workers, and
# the short tests fill the time their kernels wait on the lessons' simulated clocks.
unit: $(VENV)/.installed-dev
	$(TEST_ENV) $(BIN)/pytest $(NO_NBVAL) -n 3 --maxschedchunk 1 tests

# nbval executes the exercises top to bottom; --dist loadfile keeps a notebook on one worker.
# The lessons and solutions run in `make unit` instead, in tests/test_learner_view.py: a real
# kernel as JupyterLab starts it, judged on what a learner sees (and each lesson run twice).
# tests/nbval_ipc.py gives nbval's kernels Unix sockets: beside `make unit`, a kernel's TCP port
# could be taken before the kernel bound it.
notebooks: $(VENV)/.installed-dev
	$(TEST_ENV) $(BIN)/python -m pytest -p tests.nbval_ipc -n 2 --dist loadfile --nbval-lax \
		--nbval-cell-timeout=60 exercises

# The lessons in real JupyterLab + headless Chromium, and in the JupyterLite site (test_lite.py
# builds it from npm and PyPI, cached in lite/_build/ by its inputs). Needs Debian's chromium
# (CHROMIUM=path to use another); without it the suite is reported as not run, unless
# REQUIRE_BROWSER is set (CI). Two workers, each with its own JupyterLab and Chromium: most of a
# browser test is waiting on a kernel or a page, so the second worker overlaps the first's waits.
# Tests are handed out one at a time (--maxschedchunk 1) in the order conftest.py gives, longest
# first, so both workers end together. npm and the site's build tools are installed only when
# their pins change (stamp files).
CHROMIUM ?= /usr/bin/chromium
BROWSER_WORKERS ?= 2
tests_browser/node_modules/.installed: tests_browser/package.json tests_browser/package-lock.json
	npm ci --prefix tests_browser --silent --no-audit --no-fund
	@touch $@

$(VENV)/.installed-lite: $(VENV)/.installed-dev lite/requirements-build.txt
	$(BIN)/pip install --quiet -r lite/requirements-build.txt
	@touch $@

browser: $(VENV)/.installed-dev
	@if [ -x "$(CHROMIUM)" ]; then \
		$(MAKE) -s --no-print-directory tests_browser/node_modules/.installed $(VENV)/.installed-lite && \
		$(TEST_ENV) CHROMIUM=$(CHROMIUM) $(BIN)/pytest -p no:cacheprovider $(NO_NBVAL) \
			-n $(BROWSER_WORKERS) --maxschedchunk 1 tests_browser; \
	elif [ -n "$$REQUIRE_BROWSER" ]; then \
		echo "browser suite required but no Chromium at $(CHROMIUM)"; exit 1; \
	else \
		echo "NOTE: browser suite NOT run: no Chromium at $(CHROMIUM)" \
			"(sudo apt-get install chromium, or make test CHROMIUM=/path/to/chromium)"; \
	fi

## make exercises: regenerate exercises/ from solutions/
exercises: $(VENV)/.installed-course
	$(BIN)/python -m course_utils.build_exercises

## make bench: print the speed figures (ratios and rates, nothing asserted)
bench: $(VENV)/.installed-dev
	$(TEST_ENV) $(BIN)/python bench/tokens.py
	$(TEST_ENV) $(BIN)/python bench/simulator.py
	$(TEST_ENV) $(BIN)/python bench/course.py
	$(TEST_ENV) $(BIN)/python bench/lessons.py
	$(BIN)/python bench/class_time.py

clean:
	rm -rf lite/_build $(VENV) .pytest_cache .ruff_cache .hypothesis .mypy_cache .grimp_cache .import_linter_cache
