"""Translation engines behind one protocol; built-ins register like plug-ins would.

Each built-in is registered with its typed options (`engines.options`), so
`create` rejects an option the engine cannot use before any model work.
"""

from hymt_cli.engines.base import Engine, EngineBase, Request, create, engine_names, register
from hymt_cli.engines.options import HFOptions, LlamaCppOptions, NoOptions, OpenAIOptions


def _identity(_: NoOptions) -> Engine:
    from hymt_cli.engines.identity import IdentityEngine

    return IdentityEngine()


def _pseudo(_: NoOptions) -> Engine:
    from hymt_cli.engines.pseudo import PseudoEngine

    return PseudoEngine()


def _hf(options: HFOptions) -> Engine:
    from hymt_cli.engines.hf import HFEngine  # imports torch only to load the model

    return HFEngine(options)


def _llamacpp(options: LlamaCppOptions) -> Engine:
    from hymt_cli.engines.llamacpp import LlamaCppEngine  # llama_cpp only on load

    return LlamaCppEngine(options)


def _openai(options: OpenAIOptions) -> Engine:
    from hymt_cli.engines.remote import OpenAIEngine  # openai and httpx on first use

    return OpenAIEngine(options)


register("identity", _identity, NoOptions)
register("pseudo", _pseudo, NoOptions)
register("hf", _hf, HFOptions)
register("llamacpp", _llamacpp, LlamaCppOptions)
register("openai", _openai, OpenAIOptions)

__all__ = ["Engine", "EngineBase", "Request", "create", "engine_names", "register"]
