# Every target builds the virtual environment first; nothing else needs installing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

LOCK   := requirements.lock
# The extras the lock covers: everything (`all`, spelled out) and the development tools.
LOCKED_EXTRAS := server faces s3 postgres stream calls dev

.PHONY: serve test fuzz lint bench model eval-faces clean lock

# The exact versions of the lock, then Focal itself without resolving anything again.
$(STAMP): $(LOCK) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

# Resolve pyproject.toml's ranges again into $(LOCK); commit the result.
lock:
	test -x $(BIN)/pip-compile || { $(PYTHON) -m venv $(VENV) && \
		$(BIN)/python -m pip install --quiet 'pip-tools~=7.6.2'; }
	$(BIN)/pip-compile --quiet --upgrade --no-emit-index-url --no-emit-find-links \
		--no-emit-trusted-host --strip-extras $(addprefix --extra ,$(LOCKED_EXTRAS)) \
		--output-file $(LOCK) pyproject.toml

serve: $(STAMP)
	$(BIN)/focal serve

test: lint
	$(BIN)/python -m pytest -q --cov --cov-report=term

# The fuzz suite (tests/fuzz) at length: `make test` runs a few examples of each.
fuzz: $(STAMP)
	FOCAL_FUZZ_EXAMPLES=$${FOCAL_FUZZ_EXAMPLES:-2000} $(BIN)/python -m pytest -q tests/fuzz \
		-p no:cacheprovider --hypothesis-show-statistics

lint: $(STAMP)
	$(BIN)/ruff check src tests tools bench examples
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.stream

model: $(STAMP)
	$(BIN)/python tools/export_retinaface.py
	$(BIN)/python tools/quantize_retinaface.py

eval-faces: $(STAMP)
	$(BIN)/python tools/eval_faces.py

clean:
	rm -rf $(VENV) build src/*.egg-info
