"""Checks of a composed config, run once before any model or data is loaded.

Every problem is collected and reported in one XgenError, each with the override that fixes it.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from xgen_cli.errors import XgenError
from xgen_cli.threads import threads_problem

PROMPT_INITS = ("sampled_vocab", "uniform", "text")
FROZEN_DTYPES = ("float32", "bfloat16")  # xgen_cli/modeling/module.py


def _get(cfg: DictConfig, key: str):
    return OmegaConf.select(cfg, key, default=None, throw_on_missing=False)


def model_problems(cfg: DictConfig) -> list[str]:
    name_or_path = _get(cfg, "model.name_or_path")
    if name_or_path is None and _get(cfg, "model.build") is None:
        return ["model.name_or_path is null and the model has no build recipe: set model.name_or_path=<hub id or folder>"]
    if name_or_path is not None and not Path(str(name_or_path)).expanduser().exists():
        # A hub id on a node without internet: refused before a run folder is made, not at the model load.
        from xgen_cli.modeling.fetch import cached_on_this_machine, offline_fix

        fix = offline_fix(str(name_or_path))
        if fix and not cached_on_this_machine(str(name_or_path)):
            return [fix]
    return []


def trainer_problems(cfg: DictConfig) -> list[str]:
    problems = [threads_problem(_get(cfg, "trainer.threads"))]
    precision = str(_get(cfg, "trainer.precision"))
    if precision.startswith("16") or "fp16" in precision:
        problems.append(f"trainer.precision={precision}: mT5 gives NaNs in fp16; use trainer.precision=bf16-mixed or 32-true")
    if _get(cfg, "trainer.accelerator") in ("gpu", "cuda"):
        import torch

        if not torch.cuda.is_available():
            problems.append("trainer.accelerator=gpu but no GPU is visible here: use trainer=cpu (one process) "
                            "or trainer=ddp_cpu (two processes)")
    if _processes(cfg) > 1 and _jobs_share_a_process():
        problems.append("a multirun of multi-process runs needs a launcher that starts each job in processes of "
                        "its own (the ranks a job starts end with it): add hydra/launcher=slurm, or run the jobs one by one")
    # batch_size is the global batch: each of the devices x num_nodes processes trains on its slice.
    devices, nodes, batch = _get(cfg, "trainer.devices"), _get(cfg, "trainer.num_nodes") or 1, _get(cfg, "batch_size")
    if isinstance(devices, int) and devices > 0 and isinstance(batch, int) and batch > 0 and batch % (devices * nodes):
        problems.append(f"batch_size={batch} does not split over trainer.devices={devices} x trainer.num_nodes={nodes} "
                        f"processes: choose a multiple of {devices * nodes} (batch_size is the global batch)")
    return [p for p in problems if p]


def _processes(cfg: DictConfig) -> int:
    """How many processes the trainer starts (devices=-1: every visible GPU)."""
    devices, nodes = _get(cfg, "trainer.devices"), _get(cfg, "trainer.num_nodes") or 1
    if devices == -1 and _get(cfg, "trainer.accelerator") in ("gpu", "cuda"):
        import torch

        devices = torch.cuda.device_count()
    return (devices if isinstance(devices, int) and devices > 0 else 1) * nodes


def _jobs_share_a_process() -> bool:
    """A multirun under Hydra's basic launcher, which runs its jobs one after the other in this process."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if not HydraConfig.initialized():
        return False
    hydra_cfg = HydraConfig.get()
    return hydra_cfg.mode == RunMode.MULTIRUN and str(hydra_cfg.launcher.get("_target_", "")).endswith(".BasicLauncher")


def data_problems(cfg: DictConfig) -> list[str]:
    problems = corpus_problems(cfg)
    if not _get(cfg, "data.eval_langs"):
        problems.append("data.eval_langs is empty: list languages, e.g. data.eval_langs=[en,ru]")
    eval_examples = _get(cfg, "data.eval_examples")
    if not isinstance(eval_examples, int) or isinstance(eval_examples, bool) or eval_examples < 1:
        problems.append(f"data.eval_examples={eval_examples} must be an integer >= 1 (the paper uses 250)")
    return problems


def fetch_problems(cfg: DictConfig) -> list[str]:
    """`xgen data fetch`'s own keys (conf/data.yaml, fetch:)."""
    problems = []
    limit = _get(cfg, "fetch.limit")
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 1):
        problems.append(f"fetch.limit={limit} must be null (every row) or an integer >= 1")
    for key in ("train_langs", "eval_langs", "eval_splits", "unlabeled_langs"):
        value = _get(cfg, f"fetch.{key}")
        if not OmegaConf.is_list(value) or not all(isinstance(v, str) for v in value):
            example = "[all]" if key == "train_langs" else "[en,fr]" if key != "eval_splits" else "[validation,test]"
            problems.append(f"fetch.{key}={value} must be a list, e.g. fetch.{key}={example}")
    return problems


def corpus_problems(cfg: DictConfig) -> list[str]:
    """Where the corpus is and how to read it: the folder of data=jsonl (data.corpus.path) or of a local
    WikiLingua copy (data.corpus.local_dir), data.on_bad_line, data.allow_fewer_eval_examples."""
    from xgen_cli.data.corpus import ON_BAD_LINE, folder_problem

    problems = []
    corpus = cfg.data.corpus
    # `"path" in corpus` is False while the value is ??? (OmegaConf), so ask for the key itself.
    if "path" in corpus.keys():
        path = None if OmegaConf.is_missing(corpus, "path") else corpus.path
        if path is None or not str(path).strip():
            problems.append("data=jsonl needs the corpus folder: add data.corpus.path=/path/to/corpus")
        else:
            problems += [p for p in [folder_problem(Path(str(path)))] if p]
    local_dir = _get(cfg, "data.corpus.local_dir")
    if local_dir:
        problems += [p for p in [folder_problem(Path(str(local_dir)), "data.corpus.local_dir")] if p]
    on_bad_line = _get(cfg, "data.on_bad_line")
    if on_bad_line not in ON_BAD_LINE:
        problems.append(f"data.on_bad_line={on_bad_line} is not one of {', '.join(ON_BAD_LINE)}: set "
                        "data.on_bad_line=error (stop at a bad line) or skip (leave it out, counted)")
    allow_fewer = _get(cfg, "data.allow_fewer_eval_examples")
    if not isinstance(allow_fewer, bool):
        problems.append(f"data.allow_fewer_eval_examples={allow_fewer} must be true or false")
    return problems


def train_problems(cfg: DictConfig) -> list[str]:
    problems = model_problems(cfg) + trainer_problems(cfg) + data_problems(cfg) + remedy_problems(cfg)
    if not problems:
        problems += supervision_problems(cfg)
    for key in ("steps", "eval_every", "batch_size", "accumulate_grad_batches", "max_new_tokens"):
        value = _get(cfg, key)
        if not isinstance(value, int) or value < 1:
            problems.append(f"{key}={value} must be a positive integer")
    problems += pass_problems(cfg)
    method = cfg.method
    frozen_dtype = method.get("frozen_dtype", "float32")
    if frozen_dtype not in FROZEN_DTYPES:
        problems.append(f"method.frozen_dtype={frozen_dtype} is not one of {', '.join(FROZEN_DTYPES)}")
    elif frozen_dtype != "float32" and "fsdp_strategy" in str(_get(cfg, "trainer.strategy._target_")):
        problems.append("method.frozen_dtype=bfloat16 with trainer=fsdp: FSDP shards a uniform dtype and already "
                        "computes in bf16; keep method.frozen_dtype=float32 (or train on trainer=gpu / ddp)")
    if "prompt_length" in method:
        if not isinstance(method.prompt_length, int) or method.prompt_length < 1:
            problems.append(f"method.prompt_length={method.prompt_length} must be a positive integer (paper: 1, 10, 100, 1000)")
        if method.init not in PROMPT_INITS:
            problems.append(f"method.init={method.init} is not one of {', '.join(PROMPT_INITS)}")
        elif method.init == "text" and not method.init_text:
            problems.append("method.init=text needs method.init_text='some words'")
    return problems


def pass_problems(cfg: DictConfig, training: bool = True) -> list[str]:
    """`max_tokens_per_pass` (conf/train.yaml): a bound of one process's forward passes. Evaluation
    (training=False) cuts its batches alike on every rank, so any number of processes may take it."""
    value = _get(cfg, "max_tokens_per_pass")
    if value is None:
        return []
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        return [f"max_tokens_per_pass={value} must be a positive integer (padded tokens in one forward pass) or null"]
    if training and _processes(cfg) > 1:
        return [f"max_tokens_per_pass={value} cuts one process's batch into passes, and {_processes(cfg)} processes "
                "each already train on batch_size / processes rows: leave it null there (or lower batch_size)"]
    return []


def supervision_problems(cfg: DictConfig) -> list[str]:
    """The training splits that train_lang reads exist (data=jsonl: a folder one can look into), so
    a missing one is refused before the run's folder is made. Other corpora say so as they load."""
    corpus = cfg.data.corpus
    if "path" not in corpus.keys():
        return []
    import hydra

    from xgen_cli.data.supervision import training_languages

    translated = _get(cfg, "translate.name") not in (None, "none")
    try:
        # TRANS-TRAIN reads the English split and translates it (data/supervision.py).
        training_languages(hydra.utils.instantiate(corpus), "en" if translated else cfg.train_lang)
    except XgenError as exc:
        return [str(exc)]
    return []


def remedy_problems(cfg: DictConfig) -> list[str]:
    """Mixing, intermediate tuning and factorized prompts (paper.md, Remedies)."""
    problems = []
    rate = _get(cfg, "mixing.rate")
    if rate is not None and not (isinstance(rate, int | float) and 0 <= rate < 1):
        problems.append(f"mixing.rate={rate} must be in [0, 1) (kappa; the paper: 0.01)")
    if _get(cfg, "intermediate.name") not in (None, "none"):
        for key in ("intermediate.steps", "intermediate.eval_every"):
            value = _get(cfg, key)
            if not isinstance(value, int) or value < 1:
                problems.append(f"{key}={value} must be a positive integer")
    if "stage1" in cfg.method:
        problems += stage1_problems(cfg)
    return problems


def stage1_problems(cfg: DictConfig) -> list[str]:
    """method=fp / fp_en: the stage-1 file exists and has every language the run trains or evaluates."""
    if OmegaConf.is_missing(cfg.method, "stage1") or not cfg.method.stage1:
        return ["method=fp needs the stage-1 sub-prompts: run `xgen pretrain objective=fp_prompts`, then add "
                "method.stage1=<its run directory>"]
    if cfg.train_lang == "all":
        return ["method=fp trains one task sub-prompt behind one language's sub-prompt, so train_lang=all "
                "(SUP-ALL) has no sub-prompt to train behind: use method=prompt or method=model for SUP-ALL"]
    from xgen_cli.modeling.factorized import missing_languages, read_stage1_index

    try:
        index = read_stage1_index(cfg.method.stage1)
    except XgenError as exc:
        return [str(exc)]
    missing = missing_languages(index, [cfg.train_lang, *(_get(cfg, "data.eval_langs") or [])])
    if missing:
        return [f"{index['file']} has no sub-prompt for {', '.join(missing)} (it has {', '.join(index['languages'])}): "
                "evaluate only those languages or train stage 1 on a corpus with these"]
    return []


def check(problems: list[str]) -> None:
    if problems:
        raise XgenError("; ".join(problems) if len(problems) == 1 else
                        f"{len(problems)} config problems: " + "; ".join(problems))
