# Every target builds the virtual environment first; nothing else needs installing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: serve test fuzz lint bench model eval-faces clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

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

model: $(STAMP)
	$(BIN)/python tools/export_retinaface.py

eval-faces: $(STAMP)
	$(BIN)/python tools/eval_faces.py

clean:
	rm -rf $(VENV) build src/*.egg-info
