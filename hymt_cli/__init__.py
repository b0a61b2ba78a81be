"""hymt: batch document translation with Tencent's HY-MT1.5 models."""

__version__ = "0.1.0"
