"""Context: a matter bundle -> the evaluation context that mapping expressions see.

Stage: after compilation, before evaluation. In: the bundle's bytes (raw Clio records, see
spec/mapping-format.md "The matter bundle") and a `CompiledMapping`. Out: a `Context` holding the
dict expressions read (`matter`, `client`, `spouse`, `spouses`, `children`, `grandchildren`,
`parties`, `co_clients`, `related`, `by_role`, `today`), the per-contact views preview shows,
warnings, and the labels that fell to the `otherwise` role. Pure: no I/O, no printing.

Decisions (issue 3):
- `spouses`, `children`, `grandchildren` are the contacts of the seed's role names Spouse, Child
  and Grandchild (empty when the mapping has no such role); `parties` is the mapping's
  `otherwise` role whatever it is called. `by_role` always has every role of the mapping.
- A custom field alias is matched to the bundle's field definitions by id, or by name ignoring
  case and surrounding spaces; when the bundle carries no definition the values' own
  `field_name`/`field_type` are used. Typing quirks are in `custom_values.py`.
- A contact related twice keeps its first relationship (with a warning); a relationship to the
  client itself is ignored (with a warning).
- Co-clients (issue 17: the bundle's optional `co_clients`, Clio's other clients of the matter)
  come after the client, in the mapping's `co_client` role unless a person chose another; they
  are in `co_clients` and `by_role`, never in `related`. A relationship to a co-client is
  ignored (with a warning). `co_client_entries` builds them, apart from the rest.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import BundleError, MapctlError
from ..mapping.model import CompiledMapping
from ..mapping.relationships import Classification, Relationships
from ..textsafe import may_hold_surrogates, without_surrogates
from .custom_values import CustomFieldIndex

BUNDLE_VERSION = 1
SEED_ROLE_LISTS = (("spouses", "Spouse"), ("children", "Child"), ("grandchildren", "Grandchild"))


@dataclass(slots=True)  # not frozen: one per contact per render, and frozen init is slow
class ContactView:
    """One contact as preview and explain show it: the client first, with role "Client"."""

    id: int
    name: str
    relationship: str
    classification: Classification
    excluded: bool = False
    record: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    role_set: str | None = None  # the role a person chose for this import (`--role`, the app)
    co_client: bool = False  # one of the matter's other clients (issue 17), not a related contact

    @property
    def role(self) -> str:
        return self.role_set if self.role_set is not None else self.classification.role


@dataclass
class Context:
    """What evaluation needs for one bundle, plus what people need to review it."""

    data: dict[str, Any]
    contacts: list[ContactView]
    warnings: list[str]
    unmatched_labels: list[Classification]
    bundle: dict[str, Any] = field(repr=False)
    # The text of every `sensitive` custom field value in the bundle (4+ characters): masked
    # wherever it would be shown (explain, error messages).
    sensitive_values: tuple[str, ...] = field(default=(), repr=False)


def load_bundle(data: bytes, source: str = "bundle") -> dict[str, Any]:
    """Parse and check a matter bundle; one BundleError naming the first problem otherwise."""
    try:
        bundle = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BundleError(f"{source}: not a matter bundle: not valid JSON ({error})") from None
    except (ValueError, RecursionError) as error:  # a 5,000-digit number, [[[[...]]]]
        reason = "nested too deeply" if isinstance(error, RecursionError) else "a number too long"
        raise BundleError(f"{source}: not a matter bundle: unreadable JSON ({reason})") from None
    return check_bundle(bundle, source, clean=may_hold_surrogates(data))


def check_bundle(bundle: Any, source: str = "bundle", *, clean: bool = True) -> dict[str, Any]:
    """Check an already decoded bundle (a file's JSON, or what the Clio client fetched); one
    BundleError naming the first problem otherwise. Lone surrogates in its text are replaced
    by U+FFFD (engine.textsafe): every output made from it can then be written (`clean=False`:
    the JSON it was decoded from cannot hold one)."""
    if clean:
        try:
            bundle = without_surrogates(bundle)
        except RecursionError:
            raise _bad(source, "unreadable JSON (nested too deeply)") from None
    if not isinstance(bundle, dict):
        raise _bad(source, f"the file holds a JSON {_json_type(bundle)}, not an object")
    version = bundle.get("bundle_version")
    if version is None:
        raise _bad(source, "no bundle_version (expected 1)", hint=_FETCH_HINT)
    if type(version) is not int or version != BUNDLE_VERSION:
        raise _bad(source, f"bundle_version {json.dumps(version)} is not supported (expected 1)")
    _check_shapes(bundle, source)
    return bundle


_FETCH_HINT = "make one with `mapctl fetch MATTER -o FILE`"


def _bad(source: str, problem: str, hint: str | None = None) -> BundleError:
    return BundleError(f"{source}: not a usable matter bundle: {problem}", hint=hint)


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object" if isinstance(value, dict) else type(value).__name__


def _is_id(value: Any) -> bool:
    return type(value) is int


def _check_shapes(bundle: dict[str, Any], source: str) -> None:
    for key in ("matter", "contacts"):
        if key not in bundle:
            raise _bad(source, f"no '{key}'", hint=_FETCH_HINT)
    matter = bundle.get("matter")
    if not isinstance(matter, dict):
        raise _bad(source, f"'matter' must be an object, got {_json_type(matter)}")
    client = matter.get("client")
    if not isinstance(client, dict) or not _is_id(client.get("id")):
        raise _bad(source, "the matter has no client ('matter.client.id' must be a number)")
    contacts = bundle.get("contacts")
    if not isinstance(contacts, list):
        raise _bad(source, f"'contacts' must be an array, got {_json_type(contacts)}")
    listed = [contact.get("id") if type(contact) is dict else None for contact in contacts]
    if not all(type(i) is int for i in listed):
        for position, contact in enumerate(contacts):
            if not isinstance(contact, dict) or not _is_id(contact.get("id")):
                raise _bad(
                    source, f"contacts[{position}] must be a contact object with a numeric id"
                )
    ids = set(listed)
    if client["id"] not in ids:
        raise _bad(source, f"the matter's client (contact {client['id']}) is not in 'contacts'")
    for key in ("relationships", "custom_fields", "co_clients"):
        items = bundle.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise _bad(source, f"'{key}' must be an array of objects")
    for position, other in enumerate(bundle.get("co_clients", [])):
        if not _is_id(other.get("id")):
            raise _bad(source, f"co_clients[{position}] has no contact id")
        if other["id"] not in ids:
            where = f"co_clients[{position}] is contact {other['id']}"
            raise _bad(source, f"{where}, which is not in 'contacts'")
    for position, rel in enumerate(bundle.get("relationships", [])):
        target = rel.get("contact")
        if not isinstance(target, dict) or not _is_id(target.get("id")):
            raise _bad(source, f"relationships[{position}] has no contact id")
        if target["id"] not in ids:
            raise _bad(
                source,
                f"relationships[{position}] ({json.dumps(rel.get('description'))}) points to "
                f"contact {target['id']}, which is not in 'contacts'",
            )
        if rel.get("description") is not None and not isinstance(rel["description"], str):
            raise _bad(source, f"relationships[{position}].description must be a string")


def contact_name(record: dict[str, Any]) -> str:
    """The contact's display name: `name`, else first and last name joined, else ""."""
    name = record.get("name")
    if isinstance(name, str) and name.strip():
        return name
    parts = [record.get(k) for k in ("first_name", "last_name")]
    return " ".join(p for p in parts if isinstance(p, str) and p.strip())


def build_context(
    bundle: dict[str, Any],
    mapping: CompiledMapping,
    *,
    today: datetime.date,
    exclude: Collection[int] = (),
    roles: Mapping[int, str] | None = None,
) -> Context:
    """The evaluation context for one checked bundle (see the module docstring). `roles` sets
    related contacts' roles by hand ({contact id: role}), whatever their labels say."""
    by_id = {c["id"]: c for c in bundle["contacts"]}
    client_id = bundle["matter"]["client"]["id"]
    _check_exclusions(exclude, client_id, by_id, bundle)
    roles = roles or {}
    _check_roles(roles, client_id, bundle, mapping.relationships)
    # What the Clio client met while fetching (refused fields, stub records, no custom field
    # definitions): said first, with every other warning (issue 17 items 2-4).
    fetched = bundle.get("fetch_warnings")
    warnings: list[str] = (
        [w for w in fetched if isinstance(w, str)] if isinstance(fetched, list) else []
    )
    fields = CustomFieldIndex(mapping.custom_fields, bundle.get("custom_fields", []), warnings)
    client_record = by_id[client_id]
    client = _contact(client_record, "", "Client", fields, warnings)
    views = [ContactView(client_id, contact_name(client_record), "", _CLIENT, record=client)]
    rules = mapping.relationships
    by_role: dict[str, list[dict[str, Any]]] = {role: [] for role in rules.role_names}
    co_clients = co_client_entries(bundle, rules, fields, warnings, exclude=exclude, roles=roles)
    for view in co_clients:
        views.append(view)
        if not view.excluded:
            by_role[view.role].append(view.record)
    related: list[dict[str, Any]] = []
    unmatched: list[Classification] = []
    seen = {client_id: ""}
    co_ids = {view.id: view for view in co_clients}
    for rel in bundle.get("relationships", []):
        contact_id = rel["contact"]["id"]
        label = rel.get("description") or ""
        if not label.strip():  # blank: "" in the context, whatever white space Clio holds
            label = ""
        if contact_id == client_id:
            warnings.append(
                f"a relationship labelled {json.dumps(label)} points to the client itself; ignored"
            )
            continue
        if contact_id in co_ids:
            who = co_ids[contact_id].name or f"contact {contact_id}"
            warnings.append(
                f"{who} (contact {contact_id}) is a co-client and also related as "
                f"{json.dumps(label)}: kept as a co-client ({co_ids[contact_id].role})"
            )
            continue
        if contact_id in seen:
            warnings.append(_twice_warning(by_id[contact_id], contact_id, label, seen[contact_id]))
            continue
        seen[contact_id] = label
        found = _classify(rules, label)
        chosen = roles.get(contact_id)
        role = chosen if chosen is not None else found.role
        record = by_id[contact_id]
        contact = _contact(record, label, role, fields, warnings)
        excluded = contact_id in exclude
        view = ContactView(
            contact_id, contact_name(record), label, found, excluded, contact, chosen
        )
        views.append(view)
        if not found.matched and chosen is None:
            unmatched.append(found)
        if not excluded:
            related.append(contact)
            by_role[role].append(contact)
    data = _data(bundle["matter"], client, related, by_role, rules.otherwise, today)
    data["co_clients"] = [view.record for view in co_clients if not view.excluded]
    warnings[:0] = _odd_contacts(client_record, views, data)
    secrets = _sensitive_values(views, mapping.sensitive_aliases)
    return Context(data, views, warnings, unmatched, bundle, secrets)


def co_client_ids(bundle: dict[str, Any]) -> list[int]:
    """The matter's other clients (bundle `co_clients`, optional: none in older bundles), in
    Clio's order, each once, never the default client."""
    client_id = bundle["matter"]["client"]["id"]
    ids: list[int] = []
    for entry in bundle.get("co_clients") or []:
        if entry["id"] != client_id and entry["id"] not in ids:
            ids.append(entry["id"])
    return ids


def co_client_entries(
    bundle: dict[str, Any],
    rules: Relationships,
    fields: CustomFieldIndex,
    warnings: list[str],
    *,
    exclude: Collection[int] = (),
    roles: Mapping[int, str] | None = None,
) -> list[ContactView]:
    """One view per co-client (issue 17): its record as expressions see it (`relationship` "",
    `role` the mapping's `co_client` role or the one a person chose, `custom`), in the
    bundle's order. Kept apart from `related`; the caller puts the kept ones in `by_role` and
    `co_clients`."""
    by_id = {c["id"]: c for c in bundle["contacts"]}
    found = Classification("", rules.co_client, None)
    views = []
    for contact_id in co_client_ids(bundle):
        chosen = (roles or {}).get(contact_id)
        role = chosen if chosen is not None else rules.co_client
        record = by_id[contact_id]
        contact = _contact(record, "", role, fields, warnings)
        excluded = contact_id in exclude
        view = ContactView(contact_id, contact_name(record), "", found, excluded, contact, chosen)
        view.co_client = True
        views.append(view)
    return views


def _sensitive_values(views: list[ContactView], aliases: frozenset[str]) -> tuple[str, ...]:
    found: dict[str, None] = {}
    for alias in aliases:
        for view in views:
            value = view.record["custom"].get(alias)
            if isinstance(value, int | float) and not isinstance(value, bool):
                value = str(value)
            if isinstance(value, str) and len(value.strip()) >= 4:
                found[value.strip()] = None
    return tuple(found)


_CLIENT = Classification("", "Client", None)
# Classifying (and the did-you-mean for unmatched labels) costs far more than the rest of a
# contact; batch renders see the same few labels again and again. Keyed by the Relationships
# object (kept alive here so its id is not reused).
_CLASSIFIED: dict[int, tuple[Relationships, dict[str, Classification]]] = {}


def _classify(rules: Relationships, label: str) -> Classification:
    entry = _CLASSIFIED.get(id(rules))
    if entry is None or entry[0] is not rules:
        if len(_CLASSIFIED) > 64:
            _CLASSIFIED.clear()
        entry = _CLASSIFIED[id(rules)] = (rules, {})
    cache = entry[1]
    found = cache.get(label)
    if found is None:
        found = cache[label] = rules.classify(label)
    return found


def _only_related(
    ids: Collection[int],
    client_id: int,
    bundle: dict[str, Any],
    *,
    option: str,
    client: str,
    unknown: str,
) -> None:
    """`ids` (of --exclude or --role) name related contacts of the matter, not its client."""
    if client_id in ids:
        raise MapctlError(f"contact {client_id} is the matter's client{client}",
                          hint=f"{option} takes related contacts only")  # fmt: skip
    related = {rel["contact"]["id"] for rel in bundle.get("relationships", [])}
    related.update(co_client_ids(bundle))  # co-clients can be removed or given a role too
    missing = sorted(set(ids) - related)
    if missing:
        listed = ", ".join(str(i) for i in missing)
        raise MapctlError(
            f"{unknown} {listed}: not a related contact of this matter",
            hint="mapctl preview MATTER lists the related contacts and their ids",
        )


def _check_exclusions(
    exclude: Collection[int], client_id: int, by_id: dict[int, Any], bundle: dict[str, Any]
) -> None:
    _only_related(exclude, client_id, bundle, option="--exclude",
                  client=" and cannot be excluded", unknown="cannot exclude contact")  # fmt: skip


def _check_roles(
    roles: Mapping[int, str], client_id: int, bundle: dict[str, Any], rules: Relationships
) -> None:
    _only_related(roles, client_id, bundle, option="--role",
                  client=": its role is always Client",
                  unknown="cannot set the role of contact")  # fmt: skip
    for contact_id, role in sorted(roles.items()):
        if role not in rules.role_names:
            raise MapctlError(
                f"cannot give contact {contact_id} the role {role!r}: the mapping has no such role",
                hint=f"the mapping's roles: {', '.join(rules.role_names)}",
            )


def _twice_warning(record: dict[str, Any], contact_id: int, label: str, first: str) -> str:
    who = contact_name(record) or f"contact {contact_id}"
    return f"{who} (contact {contact_id}) is related more than once; kept the first label " + (
        f"{json.dumps(first)}, ignored {json.dumps(label)}"
    )


def _contact(
    record: dict[str, Any],
    label: str,
    role: str,
    fields: CustomFieldIndex,
    warnings: list[str],
) -> dict[str, Any]:
    contact = dict(record)
    contact["relationship"] = label
    contact["role"] = role
    contact["custom"] = fields.values_for(record, warnings)
    return contact


def _data(
    matter: dict[str, Any],
    client: dict[str, Any],
    related: list[dict[str, Any]],
    by_role: dict[str, list[dict[str, Any]]],
    otherwise: str,
    today: datetime.date,
) -> dict[str, Any]:
    data: dict[str, Any] = {"matter": matter, "client": client}
    for key, role in SEED_ROLE_LISTS:
        data[key] = by_role.get(role, [])
    spouses = data["spouses"]
    data["spouse"] = spouses[0] if spouses else None
    data["parties"] = by_role[otherwise]
    data["related"] = related
    data["by_role"] = by_role
    data["today"] = today.isoformat()
    return data


def _odd_contacts(
    client_record: dict[str, Any], views: list[ContactView], data: dict[str, Any]
) -> list[str]:
    warnings = []
    if client_record.get("type") == "Company":
        warnings.append(
            f"the client {contact_name(client_record) or client_record['id']} is a Company, "
            "not a Person: personal answers (names, birth date) stay blank"
        )
    spouses = data["spouses"]
    if len(spouses) > 1:
        names = ", ".join(contact_name(s) or f"contact {s['id']}" for s in spouses)
        warnings.append(
            f"{len(spouses)} contacts are in the Spouse role ({names}): the first is `spouse`, "
            "all are in `spouses`"
        )
    for view in views:
        if view.record.get("redacted") is True:
            warnings.append(
                f"contact {view.id} is redacted by Clio (your Clio user may not see it): "
                "its answers stay blank"
            )
        elif not view.name:
            who = "the client" if view.role == "Client" else f"a {view.role.lower()}"
            warnings.append(f"contact {view.id} ({who}) has no name")
    return warnings
