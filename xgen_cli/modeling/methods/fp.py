"""FACTORIZED PROMPTS, stage 2 (paper.md, Remedies): `method=fp`.

The stage-1 language sub-prompts (`xgen pretrain objective=fp_prompts`) stay frozen; a new task
sub-prompt, initialised from stage 1's span-corruption sub-prompt, is trained on English
summarization behind the English sub-prompt: [lang:en ; task]. At evaluation each language swaps
in its own sub-prompt, [lang:<xx> ; task]; `method=fp_en` keeps lang:en (the paper's FP-EN).
Checkpoints hold the new task sub-prompt only: the rest comes from the stage-1 file.
"""

from __future__ import annotations

from xgen_cli.errors import XgenError
from xgen_cli.modeling.factorized import lang_part, load_subprompts, task_part
from xgen_cli.modeling.module import Seq2SeqModule
from xgen_cli.modeling.soft_prompt import SoftPrompt

TASK_PART = "task"  # the new sub-prompt of stage 2
INIT_FROM = "span_corruption"  # paper.md: stage 2's task sub-prompt starts as the span-corruption one


class FactorizedPromptTuning(Seq2SeqModule):
    def __init__(self, backbone, prompt: SoftPrompt, optimizer: dict, train_lang: str, keep_english: bool,
                 frozen_dtype: str = "float32"):
        super().__init__(backbone, optimizer)
        self.freeze_backbone(frozen_dtype)
        self.prompt = prompt
        for name, part in prompt.parts.items():
            part.requires_grad_(name == TASK_PART)  # language sub-prompts stay as stage 1 left them
        self.train_lang, self.keep_english = train_lang, keep_english
        self.strict_loading = False  # checkpoints hold the task sub-prompt only

    def trainable_parameters(self):
        return [self.prompt.parts[TASK_PART]]

    def language_of(self, lang: str | None) -> str:
        """Whose sub-prompt a row uses: its own language (FP), or always the training one (FP-EN)."""
        lang = self.train_lang if self.keep_english or lang is None else lang
        if lang_part(lang) not in self.prompt.parts:
            have = sorted(n.split(":", 1)[1] for n in self.prompt.parts if n.startswith("lang:"))
            raise XgenError(f"the stage-1 sub-prompts have no language {lang!r} (they have {', '.join(have)}): "
                            "evaluate those languages or train stage 1 on a corpus with this one")
        return lang

    def encoder_inputs(self, input_ids, attention_mask, langs=None, tasks=None):
        rows = [(lang_part(self.language_of(lang)), TASK_PART) for lang in (langs or [None] * len(input_ids))]
        embeds, mask = self.prompt.prepend(self.backbone.get_input_embeddings()(input_ids), attention_mask, rows)
        return {"inputs_embeds": embeds, "attention_mask": mask}

    def checkpoint_keys(self):
        return {f"prompt.parts.{TASK_PART}"}


def build(backbone, tokenizer, optimizer: dict, stage1: str, train_lang: str = "en", keep_english: bool = False,
          seed: int = 0, frozen_dtype: str = "float32") -> FactorizedPromptTuning:
    subprompts, index = load_subprompts(stage1, backbone)
    if INIT_FROM not in index["tasks"]:
        raise XgenError(f"{index['file']} has no {INIT_FROM} task sub-prompt to start stage 2 from "
                        f"(it has {', '.join(index['tasks'])}): train stage 1 with the span_corruption task")
    parts = {name: value for name, value in subprompts.items() if name.startswith("lang:")}
    parts[TASK_PART] = subprompts[task_part(INIT_FROM)].clone()
    return FactorizedPromptTuning(backbone, SoftPrompt(parts), optimizer, train_lang, keep_english, frozen_dtype)
