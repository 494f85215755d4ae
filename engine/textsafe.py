"""Text safe for output: lone surrogates replaced, the same way wherever text comes in.

Stage: ground (no engine imports). JSON may spell half of a surrogate pair on its own
(`"X\\ud83d"`), and YAML's `"\\ud83d"` escape too; Python decodes either into a string that no
UTF-8 output can hold (UnicodeEncodeError on printing or writing). mapctl replaces each such code
point by U+FFFD (the Unicode replacement character) where the text enters: the matter bundle
(`render.context.load_bundle`), Clio's responses (`clio.session`) and the mapping's title
(`mapping.compilation`). Every output made from that text (the answer file, JSON, explain,
tables, client.json, messages) then shows the same U+FFFD (issue 9).
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT = "\ufffd"
_SURROGATE = re.compile("[\ud800-\udfff]")


def replace_surrogates(text: str) -> str:
    """`text` with every lone surrogate code point replaced by U+FFFD."""
    return _SURROGATE.sub(REPLACEMENT, text) if _SURROGATE.search(text) else text


# In JSON bytes: an escape \uD800-\uDFFF, or a surrogate encoded as UTF-8 (json.loads decodes
# bytes with "surrogatepass"). Two patterns, each starting with a literal: the regex engine then
# jumps from one `\u` (or 0xED byte) to the next instead of trying an alternation at every byte.
_ESCAPED_SURROGATE = re.compile(rb"\\u[dD][89a-fA-F]")
_ENCODED_SURROGATE = re.compile(rb"\xed[\xa0-\xbf]")


def may_hold_surrogates(data: bytes) -> bool:
    """Whether JSON bytes may decode to a string holding a surrogate (a fast check, so that
    `without_surrogates` walks only such documents): one of the forms above, or JSON that is
    not UTF-8 (UTF-16 or UTF-32, which json.loads also reads)."""
    if b"\x00" in data[:4] or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    if _ESCAPED_SURROGATE.search(data) is not None:  # faster than `b"\\u" in data` first
        return True
    return b"\xed" in data and _ENCODED_SURROGATE.search(data) is not None  # memchr, then re


def without_surrogates(value: Any) -> Any:
    """Decoded JSON (dicts, lists, strings, ...) with every string, keys included, passed
    through `replace_surrogates` (containers are copied)."""
    if isinstance(value, str):
        return replace_surrogates(value)
    if isinstance(value, dict):
        return {without_surrogates(k): without_surrogates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_surrogates(v) for v in value]
    return value


def quoted(text: str) -> str:
    """`text` in single quotes for a message, each character that is not printable (control
    characters, lone surrogates, U+FFFE...) written as a \\uXXXX escape."""
    shown = (c if c.isprintable() else f"\\u{ord(c):04x}" for c in text)
    return "'" + "".join(shown) + "'"
