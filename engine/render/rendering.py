"""Rendering: bundle bytes -> answer file bytes, the whole offline pipeline for one bundle.

Stage: glue over context -> evaluation -> answerfile, shared by `mapctl render`, `mapctl test`
and the import workflow. Pure apart from what it is given: no file access, no printing (the
caller reads and writes files and reports warnings).
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any, Literal

from ..errors import EvaluationError, Problem
from ..hotdocs.answerfile import answers_to_json, render_xml
from ..mapping.model import CompiledMapping
from .codegen import render_compiled
from .context import Context, build_context, load_bundle
from .evaluation import Evaluation, evaluate

OutputFormat = Literal["anx", "json"]


class Rendered:
    """One rendered bundle: the output bytes and what the user should be told.

    From the compiled path (`codegen`), `context` and `evaluation` are made by the interpreter
    on first use (rendering itself never needs them; `mapctl test` and explain do)."""

    def __init__(
        self,
        output: bytes,
        context: Context | None,
        evaluation: Evaluation | None,
        warnings: list[str] | None = None,
        redo: Callable[[], Rendered] | None = None,
    ) -> None:
        self.output = output
        self._context = context
        self._evaluation = evaluation
        self.warnings = warnings if warnings is not None else []
        self._redo = redo

    def _interpreted(self) -> None:
        assert self._redo is not None
        again = self._redo()
        self._context, self._evaluation, self._redo = again.context, again.evaluation, None

    @property
    def context(self) -> Context:
        if self._context is None:
            self._interpreted()
        assert self._context is not None
        return self._context

    @property
    def evaluation(self) -> Evaluation:
        if self._evaluation is None:
            self._interpreted()
        assert self._evaluation is not None
        return self._evaluation

    @property
    def errors(self) -> list[Problem]:
        """Answers that failed and were left out (only with keep_going)."""
        if self._evaluation is None:  # compiled: it renders only when nothing fails
            return []
        return self._evaluation.errors


def render_bundle(
    data: bytes,
    source: str,
    mapping: CompiledMapping,
    *,
    today: datetime.date,
    exclude: Collection[int] = (),
    keep_going: bool = False,
    fmt: OutputFormat = "anx",
    compiled: bool = True,
) -> Rendered:
    """Load, build the context, evaluate and write one bundle (raises the engine's errors).

    `compiled`: try the mapping's generated renderer first (`codegen`: the same bytes, faster);
    whatever it does not handle plainly (warnings, errors, odd values) the interpreter renders.
    """
    bundle = load_bundle(data, source)
    if compiled and fmt == "anx" and not exclude:
        output = render_compiled(bundle, mapping, today)
        if output is not None:
            return Rendered(
                output,
                None,
                None,
                [],
                lambda: interpret(bundle, mapping, today=today, keep_going=keep_going, fmt=fmt),
            )
    return interpret(bundle, mapping, today=today, exclude=exclude, keep_going=keep_going, fmt=fmt)


def interpret(
    bundle: dict[str, Any],
    mapping: CompiledMapping,
    *,
    today: datetime.date,
    exclude: Collection[int] = (),
    keep_going: bool = False,
    fmt: OutputFormat = "anx",
) -> Rendered:
    """The interpreter: context, evaluation and writer over a checked bundle."""
    context = build_context(bundle, mapping, today=today, exclude=exclude)
    try:
        evaluation = evaluate(mapping, context, keep_going=keep_going)
    except EvaluationError as error:
        error.warnings = list(context.warnings)  # they may explain the failure
        raise
    answers = evaluation.answer_set
    if fmt == "anx":  # evaluation's text is clean already (evaluation.to_text)
        output = render_xml(answers, cleaned=True)
    else:
        output = answers_to_json(answers).encode("utf-8")
    return Rendered(output, context, evaluation, list(context.warnings))


def output_name(bundle_path: Path, fmt: OutputFormat) -> str:
    """The file name batch rendering gives a bundle's output: `<stem>.anx` (or `.json`)."""
    return f"{bundle_path.stem}.{fmt}"
