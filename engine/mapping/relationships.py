"""Relationships: free-text Clio relationship labels -> interview roles.

Stage: pure data and lookups, used by validation (a label under two roles), context (each
contact's role) and the reports (labels that fell to `otherwise`, with the nearest synonym).

A label matches a synonym after case-folding, trimming and ignoring spaces and hyphens, so
" Wife ", "STEP-DAUGHTER", "stepson" and "Grand Daughter" match; "Son-in-law" does not match
"son" (it normalises to "soninlaw").
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

SEED_RELATIONSHIPS: dict[str, tuple[str, ...]] = {
    "Spouse": ("husband", "wife", "spouse", "partner"),
    "Child": (
        "son", "step-son", "daughter", "step-daughter",
        "child", "children", "step-child", "step-children",
    ),
    "Grandchild": ("grandchild", "grandchildren", "granddaughter", "grandson"),
}  # fmt: skip
SEED_OTHERWISE = "Party"
SEED_CO_CLIENT = "Co-client"  # the role of the matter's other clients (Clio's co-clients)

# Hyphens, and the dashes word processors put in their place ("Step\u2013Son" typed in Word).
_HYPHENS = frozenset("-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d")

# Qualifiers that turn a synonym into a different relationship (normalised form).
_QUALIFYING_PREFIXES = ("ex", "former", "late", "estranged", "deceased")
_QUALIFYING_SUFFIXES = ("inlaw", "inlaws")


def normalise_label(label: str | None) -> str:
    """The form labels are compared in: case-folded, no white space, no hyphens."""
    if not label:
        return ""
    return "".join(ch for ch in label.casefold() if not ch.isspace() and ch not in _HYPHENS)


@dataclass(frozen=True)
class Classification:
    """Which role a label gave, and why."""

    label: str  # as typed in Clio ("" when blank)
    role: str
    synonym: str | None  # the synonym that matched; None when the label fell to `otherwise`
    suggestion: str | None = None  # nearest synonym for a label that fell to `otherwise`

    @property
    def matched(self) -> bool:
        return self.synonym is not None


@dataclass(frozen=True)
class Relationships:
    """The mapping's roles: {role: synonyms}, the `otherwise` role, and the `co_client` role
    (the matter's other clients: Clio's multi-client matters; no label puts a contact there
    unless the mapping lists it under that role's name too)."""

    roles: Mapping[str, Sequence[str]] = field(default_factory=lambda: dict(SEED_RELATIONSHIPS))
    otherwise: str = SEED_OTHERWISE
    co_client: str = SEED_CO_CLIENT
    _index: dict[str, tuple[str, str]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[str, tuple[str, str]] = {}
        for role, synonyms in self.roles.items():
            for synonym in synonyms:
                index.setdefault(normalise_label(synonym), (role, synonym))
        object.__setattr__(self, "_index", index)

    @property
    def role_names(self) -> list[str]:
        """Every role, the mapping's order, then `co_client`, `otherwise` last (each once)."""
        names = list(self.roles)
        for extra in (self.co_client, self.otherwise):
            if extra not in names:
                names.append(extra)
        return names

    def classify(self, label: str | None) -> Classification:
        """The role for one label; blank or unknown labels get the `otherwise` role."""
        text = label or ""
        hit = self._index.get(normalise_label(text))
        if hit is not None:
            return Classification(text, hit[0], hit[1])
        return Classification(text, self.otherwise, None, self.nearest(text))

    def nearest(self, label: str) -> str | None:
        """The synonym closest to an unmatched label ("Grandsun" -> "grandson"), if one is close.

        A label that is a synonym with a qualifier naming another relationship ("Ex-Wife",
        "Former Husband", "Daughter-in-law") gets no suggestion: it is not a typo, and "did you
        mean wife?" would invite staff to relabel an ex-wife as the client's spouse.
        """
        key = normalise_label(label)
        if not key or _qualified(key, self._index):
            return None
        close = difflib.get_close_matches(key, list(self._index), n=1, cutoff=0.75)
        return self._index[close[0]][1] if close else None

    def conflicts(self) -> list[tuple[str, str, str, str]]:
        """Synonyms listed under two roles after normalisation: (synonym, role, earlier synonym,
        earlier role) for each clash, in mapping order."""
        seen: dict[str, tuple[str, str]] = {}
        clashes = []
        for role, synonyms in self.roles.items():
            for synonym in synonyms:
                key = normalise_label(synonym)
                if key in seen and seen[key][1] != role:
                    clashes.append((synonym, role, *seen[key]))
                seen.setdefault(key, (synonym, role))
        return clashes


def _qualified(key: str, synonyms: Mapping[str, object]) -> bool:
    """Is `key` a known synonym with a qualifying prefix or suffix ("exwife", "soninlaw")?"""
    for prefix in _QUALIFYING_PREFIXES:
        if key.startswith(prefix) and key[len(prefix) :] in synonyms:
            return True
    return any(key.endswith(sfx) and key[: -len(sfx)] in synonyms for sfx in _QUALIFYING_SUFFIXES)
