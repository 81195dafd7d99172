"""Build the tiny backbone (model=tiny), or LM-adapt a checkpoint with the prefix-LM objective.

`xgen pretrain model=tiny` builds (or finds cached) the demo's backbone; `rebuild=true` builds it
again. `xgen pretrain model=small steps=1000` continues a real checkpoint on the corpus's unlabeled
text in all `langs` with prefix LM (paper.md: prompt tuning used "LM-adapted" mT5) and saves it with
`save_pretrained` into the run directory, ready for `model.name_or_path=<that dir>/backbone`.
"""

from __future__ import annotations

import shutil
import sys

from omegaconf import DictConfig, OmegaConf

from xgen_cli.commands._app import output_dir, xgen_app
from xgen_cli.config_checks import check, trainer_problems


@xgen_app("pretrain")
def main(cfg: DictConfig) -> None:
    check(trainer_problems(cfg))
    container = OmegaConf.to_container(cfg, resolve=True)
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

    backbone, tokenizer = load_backbone(cfg.model.name_or_path)
    corpus = hydra.utils.instantiate(cfg.data.corpus)
    texts = [t for lang in cfg.langs for t in corpus.unlabeled(lang)]
    out = output_dir() / "backbone"
    pretrain(backbone, tokenizer, texts, [("prefix_lm", cfg.steps)], batch_size=cfg.batch_size, lr=cfg.lr,
             max_tokens=cfg.max_tokens, seed=cfg.seed, trainer=container["trainer"], root_dir=output_dir())
    backbone.save_pretrained(out)
    tokenizer.save_pretrained(out)
    shutil.copy(spm_model_file(cfg.model.name_or_path), out / SPM_FILE)  # SP-ROUGE reads it
    print(f"LM-adapted backbone: {out}", file=sys.stderr)
