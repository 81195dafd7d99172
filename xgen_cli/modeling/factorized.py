"""FACTORIZED PROMPTS, stage 1 (paper.md, Remedies): language and task sub-prompts trained jointly.

A prompt is [language sub-prompt ; task sub-prompt] (50 + 50 vectors by default, uniform init with
scale 0.5, as in the reference code). Stage 1 trains every "lang:<xx>" and "task:<name>" part on a
mixture of the seven unsupervised tasks x the corpus's languages, the backbone frozen; each row of
a batch uses the parts of the language and task that made it. `xgen pretrain objective=fp_prompts`
runs it and saves the parts with `save_subprompts`; stage 2 is `method=fp` (methods/fp.py).

The file pair: `fp_prompts.safetensors` (one tensor per part) and `fp_prompts.json`, its index:
languages, tasks, lengths, and the fingerprint of the backbone the parts were trained with, so
that using them with another backbone is a clear error instead of silent nonsense.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import torch

from xgen_cli.errors import XgenError
from xgen_cli.modeling.module import Seq2SeqModule
from xgen_cli.modeling.soft_prompt import SoftPrompt, uniform_init

TENSORS_FILE = "fp_prompts.safetensors"
INDEX_FILE = "fp_prompts.json"
FORMAT = "xgen-factorized-prompts/1"
FINGERPRINT_ROWS = 1000  # rows of the input embedding hashed: enough to tell backbones apart, cheap for XXL


def lang_part(lang: str) -> str:
    return f"lang:{lang}"


def task_part(task: str) -> str:
    return f"task:{task}"


def backbone_fingerprint(backbone) -> dict:
    """What identifies a backbone: its width, vocabulary and a hash of its first embedding rows."""
    embedding = backbone.get_input_embeddings().weight.detach()
    head = embedding[:FINGERPRINT_ROWS].to(torch.float32).contiguous().cpu()
    return {"d_model": int(embedding.shape[1]), "vocab_size": int(embedding.shape[0]),
            "embedding_sha1": hashlib.sha1(head.numpy().tobytes()).hexdigest()[:16]}


def init_subprompts(langs: list[str], tasks: list[str], lang_length: int, task_length: int, dim: int,
                    scale: float, seed: int) -> dict[str, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    parts = {lang_part(lang): uniform_init(lang_length, dim, scale, generator) for lang in langs}
    parts.update({task_part(task): uniform_init(task_length, dim, scale, generator) for task in tasks})
    return parts


class FactorizedPromptPretraining(Seq2SeqModule):
    """Stage 1: the backbone frozen, every sub-prompt trained; row r uses [lang:<lang_r> ; task:<task_r>]."""

    def __init__(self, backbone, prompt: SoftPrompt, optimizer: dict):
        super().__init__(backbone, optimizer)
        self.freeze_backbone()
        self.prompt = prompt
        self.strict_loading = False  # checkpoints hold the sub-prompts only

    def trainable_parameters(self):
        return list(self.prompt.parameters())

    def encoder_inputs(self, input_ids, attention_mask, langs=None, tasks=None):
        if langs is None or tasks is None:
            raise ValueError("factorized-prompt pretraining needs each row's language and task")
        rows = [(lang_part(lang), task_part(task)) for lang, task in zip(langs, tasks, strict=True)]
        embeds, mask = self.prompt.prepend(self.backbone.get_input_embeddings()(input_ids), attention_mask, rows)
        return {"inputs_embeds": embeds, "attention_mask": mask}

    def checkpoint_keys(self):
        return {f"prompt.{name}" for name, _ in self.prompt.named_parameters()}


def save_subprompts(folder: Path, prompt: SoftPrompt, langs: list[str], tasks: list[str], lang_length: int,
                    task_length: int, fingerprint: dict, extra: dict) -> Path:
    """Write the tensors, then the index (last: its presence means the pair is complete)."""
    from safetensors.torch import save_file

    from xgen_cli.runs.files import atomic_write_json

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {name: p.detach().to(torch.float32).contiguous().cpu() for name, p in prompt.parts.items()}
    tmp = folder / f".{TENSORS_FILE}.tmp"
    save_file(tensors, str(tmp))
    tmp.replace(folder / TENSORS_FILE)
    atomic_write_json(folder / INDEX_FILE, {"format": FORMAT, "languages": langs, "tasks": tasks,
                                            "lang_length": lang_length, "task_length": task_length,
                                            "backbone": fingerprint, **extra})
    return folder / INDEX_FILE


def stage1_index_file(path: str | Path) -> Path:
    """The index of a stage-1 run directory, or of the file pair named by either of its files."""
    path = Path(path).expanduser()
    index = path / INDEX_FILE if path.is_dir() else path.with_name(INDEX_FILE)
    if not index.is_file() or not index.with_name(TENSORS_FILE).is_file():
        raise XgenError(f"method.stage1={path}: no {INDEX_FILE} + {TENSORS_FILE} there; run "
                        "`xgen pretrain objective=fp_prompts` first and point method.stage1 at its run directory")
    return index


def read_stage1_index(path: str | Path) -> dict:
    """The stage-1 index (languages, tasks, lengths, backbone); cheap: no tensors are read."""
    from xgen_cli.runs.files import read_json

    index_file = stage1_index_file(path)
    index = read_json(index_file)
    if index.get("format") != FORMAT:
        raise XgenError(f"{index_file} is not a factorized-prompt index ({FORMAT}): point method.stage1 elsewhere")
    index["file"] = str(index_file.with_name(TENSORS_FILE))
    return index


def load_subprompts(path: str | Path, backbone) -> tuple[dict[str, torch.Tensor], dict]:
    """The stage-1 sub-prompts and their index, refused if they were trained with another backbone."""
    from safetensors.torch import load_file

    index = read_stage1_index(path)
    ours = backbone_fingerprint(backbone)
    if index["backbone"] != ours:
        differs = [k for k in ours if index["backbone"].get(k) != ours[k]]
        raise XgenError(f"{index['file']} was trained with another backbone ({', '.join(differs)} differ: "
                        f"{ {k: index['backbone'].get(k) for k in differs} } vs this one's { {k: ours[k] for k in differs} }): "
                        "run stage 1 again with this model")
    return load_file(index["file"]), index


def missing_languages(index: dict, langs: list[str]) -> list[str]:
    return [lang for lang in langs if lang not in index["languages"]]

