"""MODEL TUNING (paper.md, Methods): every backbone weight is trained."""

from __future__ import annotations

from xgen_cli.modeling.module import Seq2SeqModule


class ModelTuning(Seq2SeqModule):
    def trainable_parameters(self):
        return [p for p in self.backbone.parameters() if p.requires_grad]


def build(backbone, tokenizer, optimizer: dict, seed: int = 0) -> ModelTuning:
    return ModelTuning(backbone, optimizer)
