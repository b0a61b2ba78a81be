"""hymt: batch document translation with Tencent's HY-MT1.5 models.

One direction of flow, each stage in its own modules:

- command line: `cli` (Typer) with `settings` (every setting declared once),
  `cli_options`, `cli_config` and `project` (hymt.toml) -> a frozen `RunConfig`;
- documents: `documents/` adapters turn bytes into a `document.Document`
  (skeleton + segments with `<sN>` tags), read by `fileio`;
- plan: `plan` finds the inputs and outputs, refuses clashes, segments each input
  once with a job per target;
- pipeline: `pipeline` adds context, `glossary` terms and `memory` answers,
  splits long segments (`splitting`) and batches requests;
- engines: `engines/` (one protocol; `prompts` builds HY-MT's prompts): `hf`,
  `llamacpp`, `openai` (inference servers, `remote_client`), `pseudo`,
  `identity`; `engines.auto` picks one for `--engine auto`, and `models` finds
  (`downloads` fetches on first use) the model files;
- validate: `validate` cleans each answer and checks its tags, `gates` its text
  (echo, length, repetition, script); what stays rejected is answered by
  `fallback` (whole segment without tags, `realign`ed, else run by run);
- render: `document` re-encodes answers in their spot; `render` checks the
  result's `structure` against the source's before anything is written;
- write: `run` writes atomically (`fileio`), records outputs, reports `outcome`s
  to `progress`; `prune` deletes outputs whose source is gone.

`serve/` (`hymt serve`) runs the same pipeline behind HTTP, one request per
document, the segments of concurrent requests sharing the engine's batches.
"""

__version__ = "0.1.0"
