"""Translation engines behind one protocol; built-ins register like plug-ins would."""

from hymt_cli.engines.base import Engine, Request, create, engine_names, register


def _identity(**_: object) -> Engine:
    from hymt_cli.engines.identity import IdentityEngine

    return IdentityEngine()


def _pseudo(**_: object) -> Engine:
    from hymt_cli.engines.pseudo import PseudoEngine

    return PseudoEngine()


def _hf(**options: object) -> Engine:
    from hymt_cli.engines.hf import HFEngine  # imports torch, only when used

    return HFEngine(**options)  # type: ignore[arg-type]


def _llamacpp(**options: object) -> Engine:
    from hymt_cli.engines.llamacpp import LlamaCppEngine  # llama_cpp only on load

    return LlamaCppEngine(**options)  # type: ignore[arg-type]


register("identity", _identity)
register("pseudo", _pseudo)
register("hf", _hf)
register("llamacpp", _llamacpp)

__all__ = ["Engine", "Request", "create", "engine_names", "register"]
