"""Relationship labels -> roles, exactly as the mapping format says; and the did-you-mean."""

from __future__ import annotations

import pytest
from mapctl.engine.mapping.relationships import Relationships, normalise_label

SEED = Relationships()


@pytest.mark.parametrize(
    ("label", "role", "synonym"),
    [
        (" Husband ", "Spouse", "husband"),
        ("WIFE", "Spouse", "wife"),
        ("Partner", "Spouse", "partner"),
        ("STEP-DAUGHTER", "Child", "step-daughter"),
        ("stepson", "Child", "step-son"),
        ("Step Son", "Child", "step-son"),
        ("Step-Children", "Child", "step-children"),
        ("Grand Daughter", "Grandchild", "granddaughter"),
        ("grand-son", "Grandchild", "grandson"),
        ("Step\u2013Son", "Child", "step-son"),
        ("Step\u2011Daughter", "Child", "step-daughter"),
        ("Grand\u00a0Daughter", "Grandchild", "granddaughter"),
        ("Son-in-law", "Party", None),
        ("Opposing Counsel", "Party", None),
        ("", "Party", None),
        (None, "Party", None),
        ("   ", "Party", None),
    ],
)
def test_labels_get_the_seed_roles(label: str | None, role: str, synonym: str | None) -> None:
    found = SEED.classify(label)
    assert (found.role, found.synonym, found.label) == (role, synonym, label or "")


def test_normalisation_folds_case_space_and_hyphens() -> None:
    assert normalise_label(" Step-Daughter\t") == "stepdaughter"
    assert normalise_label("Son-in-law") == "soninlaw"


def test_a_typo_gets_the_nearest_synonym() -> None:
    assert SEED.classify("Grandsun").suggestion == "grandson"
    assert SEED.classify("Wiffe").suggestion == "wife"


@pytest.mark.parametrize(
    "label", ["Ex-Wife", "Former Husband", "Late husband", "Daughter-in-law", "Son-In-Law"]
)
def test_a_qualified_relationship_is_not_offered_as_a_typo(label: str) -> None:
    found = SEED.classify(label)
    assert (found.role, found.suggestion) == ("Party", None)


def test_roles_are_the_mappings_own_and_otherwise_comes_last() -> None:
    custom = Relationships({"Parent": ["mother", "father"]}, otherwise="Other")
    assert custom.classify("MOTHER").role == "Parent"
    assert custom.classify("wife").role == "Other"
    assert custom.role_names == ["Parent", "Co-client", "Other"]


def test_a_label_listed_under_two_roles_is_a_conflict() -> None:
    clash = Relationships({"Spouse": ["partner"], "Business": ["Partner "]})
    assert clash.conflicts() == [("Partner ", "Business", "partner", "Spouse")]
