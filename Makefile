# xgen: `make demo` and `make test` each install first (into .venv), so a fresh clone needs nothing else.
PYTHON ?= python3.11
VENV := .venv
XGEN := $(VENV)/bin/xgen
# One folder per demo run: a finished run is never overwritten.
DEMO_DIR := outputs/demo/$(shell date +%Y-%m-%d_%H-%M-%S)
# The demo evaluates 50 validation examples per language (the paper: 250) to stay within minutes.
DEMO_ARGS ?= data.eval_examples=50

.PHONY: install backbone demo demo-remedies demo-baselines test lint bench clean

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -c constraints.txt -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	@echo "== 1/5 demo corpus (en es fr de ru vi th)"
	$(XGEN) data demo
	@echo "== 2/5 tiny mT5 backbone: SentencePiece + span corruption + prefix LM (cached after the first run)"
	$(XGEN) pretrain model=tiny
	@echo "== 3/5 LEAD-64 baseline"
	$(XGEN) eval baseline=lead64 $(DEMO_ARGS) hydra.run.dir=$(DEMO_DIR)/lead64
	@echo "== 4/5 model tuning on English, zero-shot evaluation"
	$(XGEN) train method=model $(DEMO_ARGS) hydra.run.dir=$(DEMO_DIR)/model
	@echo "== 5/5 prompt tuning on English, zero-shot evaluation"
	$(XGEN) train method=prompt $(DEMO_ARGS) hydra.run.dir=$(DEMO_DIR)/prompt
	@echo "== results (selection: best checkpoint per language, as in the paper)"
	$(XGEN) table runs=[$(DEMO_DIR)/model,$(DEMO_DIR)/prompt,$(DEMO_DIR)/lead64]

# The demo corpus and the tiny backbone the demo targets below train on (cached after the first run).
backbone: install
	$(XGEN) data demo
	$(XGEN) pretrain model=tiny

# The paper's remedies (Table 11) beside the demo's methods, on the same corpus and backbone.
REMEDIES_DIR := outputs/demo-remedies/$(shell date +%Y-%m-%d_%H-%M-%S)
REMEDY_ARGS ?= $(DEMO_ARGS)  # mixing.rate: the paper's kappa = 0.01

demo-remedies: backbone
	@echo "== 1/7 LEAD-64"
	$(XGEN) eval baseline=lead64 $(DEMO_ARGS) hydra.run.dir=$(REMEDIES_DIR)/lead64
	@echo "== 2/7 PROMPT"
	$(XGEN) train method=prompt $(DEMO_ARGS) hydra.run.dir=$(REMEDIES_DIR)/prompt
	@echo "== 3/7 PROMPT+MIX-UNSUP"
	$(XGEN) train method=prompt mixing=unsup $(REMEDY_ARGS) hydra.run.dir=$(REMEDIES_DIR)/prompt-mix
	@echo "== 4/7 factorized prompts, stage 1: language and task sub-prompts on 7 tasks x 7 languages"
	$(XGEN) pretrain objective=fp_prompts hydra.run.dir=$(REMEDIES_DIR)/fp-stage1
	@echo "== 5/7 PROMPT+FP (stage 2)"
	$(XGEN) train method=fp method.stage1=$(REMEDIES_DIR)/fp-stage1 $(DEMO_ARGS) hydra.run.dir=$(REMEDIES_DIR)/prompt-fp
	@echo "== 6/7 MODEL"
	$(XGEN) train method=model $(DEMO_ARGS) hydra.run.dir=$(REMEDIES_DIR)/model
	@echo "== 7/7 MODEL+MIX-UNSUP"
	$(XGEN) train method=model mixing=unsup $(REMEDY_ARGS) hydra.run.dir=$(REMEDIES_DIR)/model-mix
	@echo "== results (selection: best checkpoint per language, as in the paper)"
	$(XGEN) table runs=[$(REMEDIES_DIR)/prompt,$(REMEDIES_DIR)/prompt-mix,$(REMEDIES_DIR)/prompt-fp,$(REMEDIES_DIR)/model,$(REMEDIES_DIR)/model-mix,$(REMEDIES_DIR)/lead64]

# Figure 4's rows on the demo (paper.md, Baselines): the demo's settings over its sweep files, so
# every row shares steps, evaluation size and backbone. SUP and TRANS-TRAIN for ru and th.
BASELINES_DIR := outputs/demo-baselines/$(shell date +%Y-%m-%d_%H-%M-%S)
BASELINE_ARGS ?= $(DEMO_ARGS) steps=200 eval_every=100

demo-baselines: backbone
	@echo "== 1/5 LEAD-64"
	$(XGEN) eval baseline=lead64 $(DEMO_ARGS) hydra.run.dir=$(BASELINES_DIR)/lead64
	@echo "== 2/5 PROMPT and MODEL (English only, zero-shot)"
	$(XGEN) train -m method=prompt,model $(BASELINE_ARGS) hydra.sweep.dir=$(BASELINES_DIR)/zero-shot
	@echo "== 3/5 SUP (ru, th) and SUP-ALL"
	$(XGEN) train -m sweep=demo_fig4_supervised $(BASELINE_ARGS) hydra.sweep.dir=$(BASELINES_DIR)/supervised
	@echo "== 4/5 TRANS-TRAIN (ru, th; the demo translates itself exactly)"
	$(XGEN) train -m sweep=demo_fig4_trans_train $(BASELINE_ARGS) hydra.sweep.dir=$(BASELINES_DIR)/trans-train
	@echo "== 5/5 TRANS-TEST through the MODEL run"
	$(XGEN) eval -m sweep=demo_fig4_trans_test run=$(BASELINES_DIR)/zero-shot/method=model/seed=0 $(DEMO_ARGS) hydra.sweep.dir=$(BASELINES_DIR)/trans-test
	@echo "== results (Figure 4's rows; selection: best checkpoint per language)"
	$(XGEN) table runs=[$(BASELINES_DIR)] table=baselines

test: install
	$(VENV)/bin/python -m pytest -q -n 2

lint: install
	$(VENV)/bin/ruff check xgen_cli tests

# xgen beside what researchers would use instead, interleaved in one run (bench/, README "Performance"):
# writes outputs/bench/results.json and prints the table; under 10 minutes on 2 cores.
bench: install
	$(VENV)/bin/python -m bench.run

clean:
	rm -rf outputs .cache
