"""Loading: a mapping file (and what it `extends`) -> documents with positions + the merged view.

Stage: first of the pipeline (loading -> validation -> compilation). Reads the mapping files,
nothing else; never prints. Problems (unreadable files, YAML syntax, duplicate keys, missing or
cyclic `extends`) are collected in `LoadedMapping.problems`, never raised, so that validation
can report them together with everything else.

`extends` (a string or a list of them) names a file relative to the extending file, or a bundled
mapping by name. Documents merge in order, base first: later ones override earlier ones, answers
by name, relationship roles by role, custom fields by alias, client_record by key, title as a
whole. An answer written as `Name: null` removes the inherited answer `Name`.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path as FsPath
from typing import Any

from ..errors import Problem, SourceLocation
from ..fsutil import read_at_most
from .source import MAX_BYTES, Document, Path, decode, parse

BUNDLED_PREFIX = "<bundled>/"


@dataclass(frozen=True)
class Source:
    """A mapping file to read: what to call it, how to read it, where its `extends` resolve."""

    display: str  # as the user typed it (or derived from the extending file's name)
    key: str  # identity, for cycles and reading each file once
    read: Callable[[], bytes] = field(compare=False)
    folder: FsPath | None = None  # None: a bundled mapping (its extends name bundled mappings)


@dataclass(frozen=True)
class Entry:
    """One merged entry and the document (and path in it) it came from."""

    doc: Document
    path: Path
    value: Any


@dataclass
class LoadedMapping:
    """Every document of a mapping (the file first, then what it extends) and the merged view."""

    file: str
    documents: list[Document] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    title: Entry | None = None
    relationships: dict[str, Entry] = field(default_factory=dict)
    otherwise: Entry | None = None
    co_client: Entry | None = None  # `relationships: co_client:` the matter's other clients' role
    custom_fields: dict[str, Entry] = field(default_factory=dict)
    client_record: dict[str, Entry] = field(default_factory=dict)
    answers: dict[str, Entry] = field(default_factory=dict)
    review: dict[str, Entry] = field(default_factory=dict)  # `Name: null` drops an inherited one
    removed: list[Entry] = field(default_factory=list)  # `Name: null`: inherited answer dropped
    nothing_to_remove: list[Entry] = field(default_factory=list)  # `Name: null`, nothing inherited

    @property
    def top(self) -> Document | None:
        return self.documents[0] if self.documents else None


def file_source(path: str | os.PathLike[str]) -> Source:
    """A mapping file on disk, named as the user typed it."""
    real = FsPath(path)
    return Source(
        str(path), str(real.resolve()), functools.partial(_read_bounded, real), real.parent
    )


def _read_bounded(path: FsPath) -> bytes:
    """At most one byte more than a mapping may have (so /dev/zero or a pipe cannot hang us)."""
    return read_at_most(path, MAX_BYTES + 1)


def bundled_source(name: str) -> Source:
    """A mapping shipped with mapctl."""
    from ..resources import bundled_mapping

    resource = bundled_mapping(name)
    return Source(BUNDLED_PREFIX + name, BUNDLED_PREFIX + name, resource.read_bytes, None)


def load_mapping(path: str | os.PathLike[str] | None = None) -> LoadedMapping:
    """Read a mapping file (None: the bundled default) and everything it extends.

    A bare bundled mapping's name (`-m ils-client-interview.yaml`) that is not a file in the
    current folder names the bundled mapping, as it does in `extends`."""
    from ..resources import DEFAULT_MAPPING, bundled_mapping_names

    if path is None:
        source = bundled_source(DEFAULT_MAPPING)
    elif (
        os.sep not in str(path)
        and str(path) in bundled_mapping_names()
        and not _is_file(FsPath(path))
    ):
        source = bundled_source(str(path))
    else:
        source = file_source(path)
    return load_source(source)


def load_text(text: str, file: str, folder: FsPath | None = None) -> LoadedMapping:
    """A mapping given as text (tests, stdin); `extends` resolve in `folder` (default: cwd)."""
    data = text.encode("utf-8")
    return load_source(Source(file, file, lambda: data, folder or FsPath.cwd()))


def load_source(source: str | Source) -> LoadedMapping:
    """Load `source` and its `extends` chain, then merge it (base first, this file last)."""
    if isinstance(source, str):
        source = file_source(source)
    loaded = LoadedMapping(source.display)
    loader = _ChainLoader(loaded)
    chain = loader.load(source, [])
    loaded.documents = loader.documents
    for doc in chain:
        _merge(loaded, doc)
    return loaded


class _ChainLoader:
    def __init__(self, loaded: LoadedMapping) -> None:
        self.loaded = loaded
        self.documents: list[Document] = []
        self.by_key: dict[str, list[Document]] = {}
        self.referrers: dict[str, tuple[Document, Path]] = {}  # key -> its `extends` entry

    def load(self, source: Source, stack: list[Source]) -> list[Document]:
        """The merge order for `source`: what it extends (recursively), then itself."""
        if source.key in self.by_key:
            return self.by_key[source.key]
        doc = self._read(source)
        self.documents.append(doc)
        self.by_key[source.key] = [doc]  # provisional, while its extends load
        chain: list[Document] = []
        for target, path in _extends(doc):
            resolved = self._resolve(doc, source, target, path)
            if resolved is None:
                continue
            cycle = [s.display for s in stack + [source]]
            if resolved.key in {s.key for s in stack + [source]}:
                start = next(i for i, s in enumerate(stack + [source]) if s.key == resolved.key)
                names = " -> ".join([*cycle[start:], resolved.display])
                self.loaded.problems.append(
                    doc.problem(
                        doc.location(path),
                        f"extends cycle: {names}",
                        "extends-cycle",
                        length=len(resolved.display.split("/")[-1]),
                    )
                )
                continue
            self.referrers.setdefault(resolved.key, (doc, path))
            for item in self.load(resolved, [*stack, source]):
                if item not in chain:
                    chain.append(item)
        chain.append(doc)
        self.by_key[source.key] = chain
        return chain

    def _read(self, source: Source) -> Document:
        try:
            data = source.read()
        except OSError as error:
            reason = error.strerror or type(error).__name__
            doc = Document(source.display, "")
            message = f"cannot read mapping '{source.display}': {reason}"
            referrer = self.referrers.get(source.key)
            if referrer is None:
                doc.problems.append(Problem(message, "unreadable"))
            else:  # at the `extends` entry that names it
                where, path = referrer
                doc.problems.append(
                    where.problem(
                        where.location(path),
                        message,
                        "unreadable",
                        length=len(str(source.display).split("/")[-1]),
                    )
                )
            self.loaded.problems.extend(doc.problems)
            return doc
        text, problem = decode(data, source.display)
        if text is None:
            doc = Document(source.display, data.decode("utf-8", "replace"))
            if problem is not None:
                if problem.location is not None and problem.code == "bad-encoding":
                    problem.context = doc.excerpt(problem.location)
                    problem.end_column = doc.span_end(problem.location)
                doc.problems.append(problem)
        else:
            doc = parse(text, source.display)
        self.loaded.problems.extend(doc.problems)
        return doc

    def _resolve(self, doc: Document, source: Source, target: str, path: Path) -> Source | None:
        from ..resources import bundled_mapping_names

        bundled = bundled_mapping_names()
        if source.folder is not None:
            candidate = source.folder / target
            if _is_file(candidate) or _is_other(candidate):  # not a file: reading says why
                display = os.path.normpath(os.path.join(os.path.dirname(source.display), target))
                return Source(
                    display,
                    str(candidate.resolve()),
                    functools.partial(_read_bounded, candidate),
                    candidate.parent,
                )
        if target in bundled:
            return bundled_source(target)
        itself = os.path.basename(source.key) if source.folder is not None else source.display
        # never the extending file itself: "did you mean 'ext.yaml'?" in ext.yaml is no help
        nearby = [n for n in _nearby_names(source.folder) + bundled if n != itself]
        import difflib  # only to suggest a name: not loaded at every start

        close = difflib.get_close_matches(target, nearby, n=1, cutoff=0.6)
        where = f"next to {source.display}" if source.folder is not None else "bundled"
        hint = f"did you mean '{close[0]}'?" if close else None
        if hint is None and bundled:
            hint = f"the bundled mappings are: {', '.join(bundled)}"
        self.loaded.problems.append(
            doc.problem(
                doc.location(path),
                f"cannot find '{target}' to extend (looked {where} and in the bundled mappings)",
                "extends-missing",
                hint=hint,
                length=len(target),
            )
        )
        return None


def _is_file(path: FsPath) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long for the file system, say: not a file we can read
        return False


def _is_other(path: FsPath) -> bool:
    """Something that is there but is not a plain file (a named pipe, a folder, a broken link):
    reading it says what is wrong, rather than "cannot find 'x.yaml'; did you mean 'x.yaml'?"."""
    try:
        return os.path.lexists(path)
    except (OSError, ValueError):
        return False


def _nearby_names(folder: FsPath | None) -> list[str]:
    if folder is None:
        return []
    try:
        return sorted(p.name for p in folder.iterdir() if p.suffix in (".yaml", ".yml"))
    except OSError:
        return []


def _extends(doc: Document) -> list[tuple[str, Path]]:
    """The `extends` targets of a document, with their paths (bad shapes are the schema's)."""
    if not isinstance(doc.data, dict):
        return []
    value = doc.data.get("extends")
    if isinstance(value, str) and value:
        return [(value, ("extends",))]
    if isinstance(value, list):
        return [(v, ("extends", i)) for i, v in enumerate(value) if isinstance(v, str) and v]
    return []


def _merge(loaded: LoadedMapping, doc: Document) -> None:
    data = doc.data
    if not isinstance(data, dict):
        return
    if isinstance(data.get("title"), str):
        loaded.title = Entry(doc, ("title",), data["title"])
    for section, target in (
        ("custom_fields", loaded.custom_fields),
        ("client_record", loaded.client_record),
    ):
        _merge_section(doc, section, target)
    _merge_answers(loaded, doc)
    _merge_review(loaded, doc)
    relationships = data.get("relationships")
    if isinstance(relationships, dict):
        for role, synonyms in relationships.items():
            entry = Entry(doc, ("relationships", role), synonyms)
            if role == "otherwise":
                loaded.otherwise = entry
            elif role == "co_client":
                loaded.co_client = entry
            else:
                loaded.relationships[role] = entry


def _merge_section(doc: Document, section: str, target: dict[str, Entry]) -> None:
    values = doc.data.get(section)
    if isinstance(values, dict):
        for key, value in values.items():
            target[key] = Entry(doc, (section, key), value)


def _merge_review(loaded: LoadedMapping, doc: Document) -> None:
    """Review lines override by name; `Name: null` removes an inherited one."""
    values = doc.data.get("review")
    if not isinstance(values, dict):
        return
    for name, value in values.items():
        if value is None:
            loaded.review.pop(name, None)
        else:
            loaded.review[name] = Entry(doc, ("review", name), value)


def _merge_answers(loaded: LoadedMapping, doc: Document) -> None:
    """Answers override by exact name; `Name: null` removes the inherited answer `Name`."""
    values = doc.data.get("answers")
    if not isinstance(values, dict):
        return
    for name, value in values.items():
        entry = Entry(doc, ("answers", name), value)
        if value is not None:
            loaded.answers[name] = entry
        elif name in loaded.answers:
            del loaded.answers[name]
            loaded.removed.append(entry)
        else:
            loaded.nothing_to_remove.append(entry)


def location_of(entry: Entry, *rest: str | int, key: bool = False) -> SourceLocation:
    """Where a merged entry (or something inside it) sits in its own file."""
    return entry.doc.location((*entry.path, *rest), key=key)
