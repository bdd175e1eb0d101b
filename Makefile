# Every target builds the virtual environment first; nothing else needs installing.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: serve test lint bench model eval-faces clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/focal serve

test: $(STAMP)
	$(BIN)/python -m pytest -q

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
