"""FP-EN (paper.md, Remedies; an ablation of `method=fp`): factorized prompts that keep the English
language sub-prompt at evaluation instead of swapping in the target language's."""

from __future__ import annotations

import functools

from xgen_cli.modeling.methods import fp

build = functools.partial(fp.build, keep_english=True)
