"""mapctl's engine: a Clio matter becomes a new ILS client with a pre-filled HotDocs answer file.

Vocabulary (used the same way in code, messages and docs):

mapping
    A YAML file a firm admin edits (format 1, `spec/mapping-format.md`): relationship synonyms,
    custom fields, the client record and the answers.
rule
    One entry of a mapping's `answers`: how one interview variable is answered (`AnswerRule`).
expression
    A JMESPath expression inside a mapping, compiled once at load (`Expression`).
bundle
    One matter's raw Clio records (`bundle_version: 1`): the matter, its contacts, the
    relationships and the custom-field definitions. What `fetch` saves and `render` reads.
context
    What expressions see: `matter`, `client`, `spouse`, `children`... built from a bundle.
role
    What a contact is to the client (Spouse, Child, Grandchild, Party...), from its free-text
    relationship label.
answer
    One interview variable's value (`Answer`); an `AnswerSet` is all of them.
answer file
    The HotDocs answer-set XML (`.anx`) that pre-fills the interview.
ledger
    The record of clients mapctl has created (`$MAPCTL_HOME/clients.db`): new clients only.

Stages point one way: errors/model -> loading -> validation -> compilation -> context ->
evaluation -> answerfile. `engine.clio` (the only code that imports httpx) depends on errors and
model; `importing` ties Clio, the pipeline and the ledger together. No engine module imports
click or prints.
"""

from __future__ import annotations

import importlib
from typing import Any

# The public API: name -> the module that defines it. Imported on first use (PEP 562), so that
# `import engine.x` stays cheap and `mapctl validate` never loads the HTTP stack.
_PUBLIC: dict[str, str] = {
    # mapping -> compiled mapping
    "compile_mapping": "engine.compilation",
    "compile_mapping_text": "engine.compilation",
    "validate_files": "engine.validation",
    "read_interview": "engine.interview",
    # bundle -> context -> answers -> answer file
    "load_bundle": "engine.context",
    "build_context": "engine.context",
    "evaluate": "engine.evaluation",
    "render_xml": "engine.answerfile",
    "read_answer_file": "engine.answerfile",
    "answers_to_json": "engine.answerfile",
    # Clio and the import workflow
    "open_client": "engine.clio.client",
    "Sandbox": "engine.clio.sandbox",
    "redact_bundle": "engine.redact",
    "preview": "engine.importing",
    "import_client": "engine.importing",
    "Ledger": "engine.ledger",
    # data and errors
    "CompiledMapping": "engine.model",
    "AnswerSet": "engine.model",
    "Answer": "engine.model",
    "Relationships": "engine.relationships",
    "MapctlError": "engine.errors",
    "MappingError": "engine.errors",
    "BundleError": "engine.errors",
    "ClioError": "engine.errors",
    "ImportRefused": "engine.errors",
    "SourceLocation": "engine.errors",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
