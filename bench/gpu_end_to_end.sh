#!/usr/bin/env bash
# xgen end to end on one GPU, through the real CLI: make demo's steps with trainer=gpu, then model
# tuning under trainer=fsdp (its checkpoints included). Not yet run: the session that wrote it
# found GPU loans paused. Run it where a GPU is lent, in the repository's root, with $OUT set.
#
# The GPU machine lacks four of xgen's packages; fetch them here as wheels into .whl/ (git-ignored
# through .git/info/exclude) and carry that folder:
#   pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
#     --platform manylinux_2_28_x86_64 -d .whl hydra-core==1.3.8 omegaconf==2.3.0 cld3-py==3.1.0
#   pip wheel --no-deps -w .whl antlr4-python3-runtime==4.9.3   # sdist only: built here, pure Python
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
export PYTHONPATH=/tmp/site:$PWD PYTHONUNBUFFERED=1 XGEN_CACHE=/tmp/xgc WANDB_MODE=offline
X="python3 -m xgen_cli.cli"
R=/tmp/runs
step() { local name=$1; shift; local t0=$(date +%s); timeout "$@" > $OUT/$name.log 2>&1; echo "== $name rc=$? $(( $(date +%s) - t0 ))s"; grep -E "precision|error|Error|resuming|\[eval step" $OUT/$name.log | tail -8; }
step pretrain 120 $X pretrain model=tiny trainer=gpu
step prompt 100 $X train method=prompt trainer=gpu data.eval_examples=50 hydra.run.dir=$R/prompt
step model 80 $X train method=model trainer=gpu data.eval_examples=50 hydra.run.dir=$R/model
step fsdp 80 $X train method=model trainer=fsdp trainer.devices=1 data.eval_examples=50 hydra.run.dir=$R/fsdp
$X table runs=[$R/model,$R/prompt,$R/fsdp] > $OUT/table.txt 2>&1; head -12 $OUT/table.txt
ls $R/fsdp/checkpoints 2>&1 | head
