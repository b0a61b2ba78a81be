"""The chat engines' shared half, between the pipeline and a model's generate call.

`ChatEngine.translate_batch` passes blank segments through, builds each prompt
(`prompts.build_prompt`, wrapped by the subclass's `encode`), orders prompts by
length so similar ones share a batch, generates, and decodes the raw answers
(the pipeline cleans them with `validate.clean_answer`); when `generate` fails
part way (`PartialAnswers`), the answers it got are passed on. A retry
(`Request.attempt` > 0) decodes with HY-MT's sampling and a seed fixed by the
attempt, so it can change a rejected greedy answer and is still reproducible.
Subclasses supply `load`, `encode`, `budget`, `generate` and `decode_text`; none
of these assumes local weights (an HTTP engine encodes to text, say).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hymt_cli.engines.base import EngineBase, PartialAnswers, Request, Sampling
from hymt_cli.engines.options import ChatOptions
from hymt_cli.prompts import Composer, build_prompt

TURN_END_TOKEN = "<｜hy_place▁holder▁no▁2｜>"
"""The 1.8B's assistant turn end; its eos is another token."""


class ChatEngine(EngineBase):
    """HY-MT1.5 behind a chat template: greedy, or HY-MT's sampling on request."""

    compose: Composer
    """Builds the user-turn text (subclasses pick it from the template choice)."""

    def __init__(self, options: ChatOptions) -> None:
        self.options = options
        self.sampling_on, self.seed = options.sampling, options.seed
        self.max_new_tokens = options.max_new_tokens

    def sampling_for(self, attempt: int) -> Sampling | None:
        """Decoding for an attempt: as configured at first, HY-MT's sampling with
        a seed derived from the attempt on retries (reproducible, yet different)."""
        if attempt > 0:
            return Sampling(seed=(self.seed or 0) + attempt)
        return Sampling(seed=self.seed) if self.sampling_on else None

    def prompt_text(self, request: Request) -> str:
        """The user-turn text for `request`."""
        return build_prompt(request, self.compose)

    def translate_batch(self, requests: Sequence[Request]) -> list[str]:
        """Translate every request; results in request order."""
        results = [r.text for r in requests]  # blank segments pass through unchanged
        todo = [i for i, r in enumerate(requests) if r.text.strip()]
        if not todo:
            return results
        self.load()
        prompts = {i: self.encode(requests[i]) for i in todo}
        # Similar lengths share a batch, so little compute goes to padding.
        todo.sort(key=lambda i: len(prompts[i]), reverse=True)
        pending = set(todo)
        for attempt in sorted({requests[i].attempt for i in todo}):
            group = [i for i in todo if requests[i].attempt == attempt]
            try:
                outputs = self.generate([prompts[i] for i in group],
                                        [self.budget(requests[i]) for i in group],
                                        self.sampling_for(attempt))
            except PartialAnswers as exc:  # keep what came back, in request order
                for i, output in zip(group, exc.answers):
                    if output is not None:
                        results[i] = self.decode(output, requests[i])
                        pending.discard(i)
                kept = [None if i in pending else r for i, r in enumerate(results)]
                raise PartialAnswers(kept, exc.__cause__ or exc) from exc.__cause__
            for i, output in zip(group, outputs):
                results[i] = self.decode(output, requests[i])
                pending.discard(i)
        return results

    def decode(self, output: Any, request: Request) -> str:
        """The raw answer to `request` from one generated output."""
        return self.decode_text(output)

    def load(self) -> None:
        """Get ready to generate (load weights, open a connection); idempotent."""

    def encode(self, request: Request) -> Any:
        """The prompt for `request` in the model's chat format (anything with a
        length: token ids for local models)."""
        raise NotImplementedError

    def budget(self, request: Request) -> int:
        """max_new_tokens for `request`."""
        raise NotImplementedError

    def generate(self, prompts: list[Any], budgets: list[int],
                 sampling: Sampling | None = None) -> list[Any]:
        """One output per prompt, greedy unless `sampling`."""
        raise NotImplementedError

    def decode_text(self, output: Any) -> str:
        """The raw answer text of one output."""
        raise NotImplementedError
