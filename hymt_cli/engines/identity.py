"""The identity engine: returns every segment unchanged (dry runs, the identity law)."""

from __future__ import annotations

from collections.abc import Sequence

from hymt_cli.engines.base import EngineBase, Request


class IdentityEngine(EngineBase):
    """Translates nothing; the output document equals the input byte for byte."""

    name = "identity"

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        """Return each request's text as it is."""
        return [r.text for r in requests]
