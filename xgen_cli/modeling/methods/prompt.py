"""PROMPT TUNING (paper.md, Methods): the backbone is frozen; L learned vectors are prepended to
the encoder's input embeddings. Only the prompt is trained, and only the prompt is checkpointed
(kilobytes, not the backbone)."""

from __future__ import annotations

import torch

from xgen_cli.modeling.module import Seq2SeqModule
from xgen_cli.modeling.soft_prompt import SoftPrompt, sampled_vocab_init, text_init, uniform_init

PROMPT_PART = "task"


class PromptTuning(Seq2SeqModule):
    def __init__(self, backbone, prompt: SoftPrompt, optimizer: dict, frozen_dtype: str = "float32"):
        super().__init__(backbone, optimizer)
        self.freeze_backbone(frozen_dtype)
        self.prompt = prompt
        # Checkpoints hold the prompt only; loading one must not demand the backbone's weights.
        self.strict_loading = False

    def trainable_parameters(self):
        return list(self.prompt.parameters())

    def encoder_inputs(self, input_ids, attention_mask, langs=None, tasks=None):
        embeds = self.backbone.get_input_embeddings()(input_ids)
        embeds, mask = self.prompt.prepend(embeds, attention_mask, (PROMPT_PART,))
        return {"inputs_embeds": embeds, "attention_mask": mask}

    def checkpoint_keys(self):
        return {f"prompt.{name}" for name, _ in self.prompt.named_parameters()}


def init_prompt(embedding: torch.Tensor, length: int, init: str, scale: float, text: str | None, tokenizer,
                seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    if init == "sampled_vocab":
        return sampled_vocab_init(embedding, length, generator)
    if init == "uniform":
        return uniform_init(length, embedding.shape[1], scale, generator)
    if init == "text":
        return text_init(embedding, tokenizer(text or "", add_special_tokens=False).input_ids, length)
    raise ValueError(f"unknown prompt init {init!r}")  # the config validator names the choices first


def build(backbone, tokenizer, optimizer: dict, prompt_length: int = 100, init: str = "sampled_vocab",
          init_scale: float = 0.5, init_text: str | None = None, seed: int = 0,
          frozen_dtype: str = "float32") -> PromptTuning:
    embedding = backbone.get_input_embeddings().weight  # fp32 here: the prompt starts from fp32 rows
    vectors = init_prompt(embedding, prompt_length, init, init_scale, init_text, tokenizer, seed)
    return PromptTuning(backbone, SoftPrompt({PROMPT_PART: vectors}), optimizer, frozen_dtype)
