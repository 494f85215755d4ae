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
    The record of clients mapctl has created (`$MAPCTL_HOME/clients.db`): new clients only; a
    client forgotten (`mapctl clients forget`) may be imported again, and the forgetting is kept.
shared ledger
    The firm-wide ledger of a shared output folder (`<folder>/.mapctl/`, `workflow/firmledger`):
    one claim file per Clio contact, made by exclusive create, read and written by every
    workstation importing there; `workflow/records` puts it together with the personal one.

Layout (imports point one way, down this list; `tests/test_layering.py` holds the rule):
    errors, model, fsutil, resources, report   ground: every package may use them
    hotdocs/    the HotDocs file formats: answer files written and read, interview files read
    mapping/    the mapping language: YAML with positions, loading and `extends`, the schema,
                expressions and functions, relationships, validation (also against an
                interview), compilation
    clio/       the Clio client only (OAuth, session, requests, fields); the only httpx user
    sandbox/    the local Clio server, its API and its seed data (uses clio's field parsing)
    render/     context, custom values, evaluation, rendering, batch rendering, explain, admin
                case tests, redaction
    workflow/   preview, import, the ledgers (personal and shared, and forgetting a client),
                client folders and the import report
    setup/      a firm's set-up: the settings file and each setting's origin
                (`resolve_setup`), `mapctl init`'s scaffold, `mapctl doctor`'s checks
No engine module imports click or the web framework, or prints: `cli.py` and the staff app are
thin layers over `workflow`.
"""

from __future__ import annotations

import importlib
from typing import Any

# The public API: name -> the module that defines it. Imported on first use (PEP 562), so that
# importing one engine module stays cheap and `mapctl validate` never loads the HTTP stack.
_PUBLIC: dict[str, str] = {
    # mapping -> compiled mapping
    "compile_mapping": ".mapping.compilation",
    "compile_mapping_text": ".mapping.compilation",
    "validate_files": ".mapping.validation",
    "read_interview": ".hotdocs.interview",
    # bundle -> context -> answers -> answer file
    "load_bundle": ".render.context",
    "build_context": ".render.context",
    "evaluate": ".render.evaluation",
    "render_xml": ".hotdocs.answerfile",
    "read_answer_file": ".hotdocs.answerfile",
    "answers_to_json": ".hotdocs.answerfile",
    # Clio and the import workflow
    "open_client": ".clio.client",
    "Sandbox": ".sandbox.server",
    "redact_bundle": ".render.redact",
    "preview": ".workflow.importing",
    "import_client": ".workflow.importing",
    "Ledger": ".workflow.ledger",
    "forget_client": ".workflow.forgetting",
    # data and errors
    "CompiledMapping": ".mapping.model",
    "AnswerSet": ".model",
    "Answer": ".model",
    "Relationships": ".mapping.relationships",
    "MapctlError": ".errors",
    "MappingError": ".errors",
    "BundleError": ".errors",
    "ClioError": ".errors",
    "ImportRefused": ".errors",
    "SourceLocation": ".errors",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
