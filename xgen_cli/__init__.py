"""xgen: zero-shot cross-lingual generation with mT5 (Vu et al., 2022), reproduced and extended."""

__version__ = "0.1.0"
