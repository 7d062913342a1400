# Guidance Lab. `make run` starts the app; `make test` runs every test (CI calls it).
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run serve test test-fast bench train readme-media clean-venv gifs notebook

# Three stamps: `make run` installs what running needs (requirements.txt); the test, bench and
# media targets add the test-only tools (requirements-dev.txt: pytest, pytest-xdist, diffusers, playwright,
# and Jupyter); `make notebook` adds Jupyter alone (requirements-notebook.txt).
$(BIN)/.runtime: requirements.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.txt
	touch $@

$(BIN)/.installed: $(BIN)/.runtime requirements-dev.txt requirements-notebook.txt
	$(BIN)/pip install -q -r requirements-dev.txt
	touch $@

$(BIN)/.notebook: $(BIN)/.runtime requirements-notebook.txt
	$(BIN)/pip install -q -r requirements-notebook.txt
	touch $@

# This computer only (127.0.0.1): a laptop on a school network serves nobody else. `make serve` is the
# classroom server.
run: $(BIN)/.runtime
	$(BIN)/streamlit run app.py --server.address 127.0.0.1 --server.port $(PORT)

# The app for a class (README, "Running the app for a class"): every network interface, no browser
# opened on the server, no file watching.
serve: $(BIN)/.runtime
	$(BIN)/streamlit run app.py --server.address 0.0.0.0 --server.port $(PORT) --server.headless true \
		--server.fileWatcherType none

test: $(BIN)/.installed
	$(BIN)/python -m pytest -q

# For development, not CI: every test but the load test and the browser tests, on two pytest-xdist
# workers (--dist loadfile: each file on one worker, so its module fixtures are built once), then, in
# one more process, the tests that cannot share a worker process with others (FAST_SERIAL).
# FAST_SERIAL: train's --workers test starts "spawn" processes, which re-run the process's __main__;
# after an AppTest.from_function in the same process (tests/ui, which an xdist worker may run first)
# that is the AppTest's script, and the pool breaks (NameError: __args).
FAST_SKIP := --ignore=tests/robustness/test_load.py --ignore=tests/browser
FAST_SERIAL := tests/models/test_train.py::test_cli_trains_gmm2d_in_worker_processes
test-fast: $(BIN)/.installed
	$(BIN)/python -m pytest -q -n 2 --dist loadfile $(FAST_SKIP) $(addprefix --deselect=,$(FAST_SERIAL)); \
	status=$$?; $(BIN)/python -m pytest -q $(FAST_SERIAL) || status=$$?; exit $$status

bench: $(BIN)/.installed
	$(BIN)/python -m benchmarks.run

train: $(BIN)/.runtime
	$(BIN)/python -m models.train

clean-venv:
	rm -rf $(VENV)

# The students' tour in Jupyter, with the project's environment as its kernel (Jupyter runs from .venv).
# JUPYTER_ARGS passes options to Jupyter, e.g. JUPYTER_ARGS="--no-browser --port 8888" on a server.
JUPYTER_ARGS ?=
notebook: $(BIN)/.notebook
	$(BIN)/python -m notebook notebooks/tour.ipynb $(JUPYTER_ARGS)

# Every lecture GIF (every view, every guidance method, both data sets) into one folder.
GIFS ?= out/gifs
gifs: $(BIN)/.runtime
	$(BIN)/python -m viz.lecture_gifs --out $(GIFS)

# README pictures, made by the project's own export command and screenshot tool.
EXPORT := $(BIN)/python -m viz.export --steps 50 --seed 0 --batch 8 --frames 51
readme-media: $(BIN)/.installed
	mkdir -p assets/readme
	$(EXPORT) --data digits --model neural --guidance cfg --gamma 3 --label 7 --projection plane --figure cfg --out assets/readme/cfg.gif
	$(EXPORT) --data digits --model neural --guidance classifier --gamma 3 --label 7 --projection plane --figure classifier --out assets/readme/classifier.gif
	$(EXPORT) --data digits --model neural --guidance none --label -1 --projection pca --figure trajectory --out assets/readme/trajectory.gif
	$(EXPORT) --data gmm2d --model neural --guidance cfg --gamma 3 --label 1 --projection pca --figure paths --out assets/readme/gmm2d-paths.gif
	$(EXPORT) --data digits --model neural --guidance apg --gamma 5 --apg-eta 0 --label 7 --projection plane --figure apg --out assets/readme/apg.gif
	$(EXPORT) --data digits --model neural --guidance rescale --gamma 5 --rescale-phi 0.7 --label 7 --projection plane --figure rescale --out assets/readme/rescale.gif
	$(BIN)/python -m viz.export --data gmm2d --model exact --guidance cfg --gamma 7 --label 1 --seed 0 --figure field --out assets/readme/field.gif
	$(EXPORT) --data digits --model neural --path flow --shift 3 --sampler euler --guidance cfg --gamma 3 --label 7 --projection plane --figure flow --out assets/readme/flow.gif
	$(BIN)/python -m viz.lecture_gifs --data gmm2d --model neural --guidance none --figures flow --steps 50 --seed 0 --out out/readme-lecture
	cp out/readme-lecture/gmm2d-meets-flow.gif assets/readme/meets-flow.gif
	$(BIN)/python -m tools.screenshots --out assets/readme --window 1920x1080
