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

__all__: list[str] = []
