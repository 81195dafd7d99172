"""Build the tiny backbone, LM-adapt a checkpoint, or train factorized-prompt sub-prompts (stage 1).

`objective=backbone` (the default): `xgen pretrain model=tiny [data=jsonl data.corpus.path=<dir>]`
builds (or finds cached) the tiny backbone on that corpus (the demo by default): its vocabulary and
pretraining come from the corpus's unlabeled text, and `xgen train`/`xgen eval` with the same `data=`
find the same folder; `rebuild=true` builds it again. With `model.name_or_path=<folder or hub id>`
(any `model=`, tiny included) it continues that checkpoint instead, by prefix LM on the corpus's
unlabeled text in `objective.langs` (paper.md: prompt tuning used "LM-adapted" mT5), keeping its
vocabulary, and saves it with `save_pretrained` into <run dir>/backbone, ready for
`model.name_or_path=<that dir>/backbone`.
`objective=fp_prompts`: factorized prompts' stage 1 (paper.md, Remedies) on any backbone: language
and task sub-prompts trained on the seven unsupervised tasks x the corpus's languages, saved as
fp_prompts.safetensors + fp_prompts.json for `xgen train method=fp method.stage1=<run dir>`.
"""

from __future__ import annotations

import shutil
import sys

from omegaconf import DictConfig, OmegaConf

from xgen_cli.commands._app import output_dir, xgen_app
from xgen_cli.config_checks import check, model_problems, trainer_problems


@xgen_app("pretrain")
def main(cfg: DictConfig) -> None:
    check(model_problems(cfg) + trainer_problems(cfg))
    container = OmegaConf.to_container(cfg, resolve=True)
    if cfg.objective.name == "fp_prompts":
        fp_prompts(cfg, container)
        return
    model = container["model"]
    if model.get("build") and not model.get("name_or_path"):
        from xgen_cli.modeling.tiny import DONE_FILE, ensure_tiny

        folder = ensure_tiny(cfg.cache_dir, model["build"], container["trainer"], rebuild=cfg.rebuild)
        print(f"tiny backbone: {folder}")
        print((folder / DONE_FILE).read_text())
        return
    lm_adapt(cfg, container)


def lm_adapt(cfg: DictConfig, container: dict) -> None:
    import hydra

    from xgen_cli.modeling.backbone import SPM_FILE, load_backbone, spm_model_file
    from xgen_cli.modeling.pretraining import pretrain

    objective = container["objective"]
    backbone, tokenizer = load_backbone(cfg.model.name_or_path)
    unlabeled = hydra.utils.instantiate(cfg.unlabeled, corpus=hydra.utils.instantiate(cfg.data.corpus))
    texts = [t for lang in objective["langs"] for t in unlabeled.unlabeled(lang)]
    out = output_dir() / "backbone"
    pretrain(backbone, tokenizer, texts, [("prefix_lm", objective["steps"])], batch_size=objective["batch_size"],
             lr=objective["lr"], max_tokens=objective["max_tokens"], seed=cfg.seed, trainer=container["trainer"],
             root_dir=output_dir())
    backbone.save_pretrained(out)
    tokenizer.save_pretrained(out)
    shutil.copy(spm_model_file(cfg.model.name_or_path), out / SPM_FILE)  # SP-ROUGE reads it
    print(f"LM-adapted backbone: {out}", file=sys.stderr)


def fp_prompts(cfg: DictConfig, container: dict) -> None:
    """Stage 1 of factorized prompts: read the text, build the backbone, train the sub-prompts, save."""
    import hydra
    import lightning as L

    from xgen_cli.data.batching import TrainData
    from xgen_cli.data.mixing import remedy_langs
    from xgen_cli.modeling.backbone import load_backbone
    from xgen_cli.modeling.factorized import (
        FactorizedPromptPretraining,
        backbone_fingerprint,
        init_subprompts,
        save_subprompts,
    )
    from xgen_cli.modeling.pretraining import subprompt_mixture
    from xgen_cli.modeling.soft_prompt import SoftPrompt
    from xgen_cli.modeling.tiny import resolve_name_or_path
    from xgen_cli.training import build_trainer

    spec = container["objective"]
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    corpus = hydra.utils.instantiate(cfg.data.corpus)
    langs = remedy_langs(spec["langs"], eval_langs=list(cfg.data.eval_langs), train_lang="", corpus=corpus,
                         key="objective.langs")
    unlabeled = hydra.utils.instantiate(cfg.unlabeled, corpus=corpus)
    texts = {lang: unlabeled.unlabeled(lang) for lang in langs}

    name_or_path = resolve_name_or_path(container["model"], cfg.cache_dir, container["trainer"])
    backbone, tokenizer = load_backbone(name_or_path)
    tasks = list(spec["tasks"])
    parts = init_subprompts(langs, tasks, spec["lang_length"], spec["task_length"], backbone.config.d_model,
                            spec["init_scale"], cfg.seed)
    module = FactorizedPromptPretraining(backbone, SoftPrompt(parts), spec["optimizer"])
    draws = subprompt_mixture(tokenizer, texts, spec["tasks"], max_tokens=spec["max_tokens"],
                              total=spec["steps"] * spec["batch_size"], seed=cfg.seed)
    print(f"[fp_prompts] {len(langs)} languages x {len(tasks)} tasks, {spec['steps']} steps; "
          f"sub-prompts {spec['lang_length']} + {spec['task_length']} vectors", file=sys.stderr, flush=True)
    trainer = build_trainer(container["trainer"], max_steps=spec["steps"], root_dir=output_dir())
    trainer.fit(module, TrainData(draws, spec["batch_size"], tokenizer.pad_token_id))
    if not trainer.is_global_zero:
        return  # every rank holds the same sub-prompts (DDP syncs their gradients): rank 0 writes them
    loss = trainer.callback_metrics.get("train/loss")
    index = save_subprompts(output_dir(), module.prompt, langs, tasks, spec["lang_length"], spec["task_length"],
                            backbone_fingerprint(backbone),
                            {"name_or_path": name_or_path, "steps": spec["steps"], "seed": cfg.seed,
                             "draws": draws.counts(), "final_train_loss": None if loss is None else float(loss)})
    print(f"factorized-prompt sub-prompts: {index.parent} (use: xgen train method=fp method.stage1={index.parent})")
