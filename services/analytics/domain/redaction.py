"""A payload, as a JSON-ready dict, cut down to what one audience may see.

Driven by planetkit.classification: public values stay, personal values go through the
audience's transform (a pseudonymizer for analysts, none for operators), private content and
secrets are removed. Anything the table does not classify is removed too: the sink refuses
to start with an unclassified field (check_classified), and this is the second lock.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum, auto
from functools import lru_cache

from google.protobuf.descriptor import Descriptor, FieldDescriptor

from planetkit.classification import NEVER_STORED, PERSONAL, PUBLIC, field_class, walked_into
from planetkit.group_items import group_of_item

Transform = Callable[[str], str]


class _Action(Enum):
    KEEP = auto()
    PERSONAL = auto()
    DROP = auto()
    WALK = auto()


def _action(field: FieldDescriptor) -> _Action:
    cls = field_class(field)
    if cls is PUBLIC:
        return _Action.KEEP
    if cls is PERSONAL:
        return _Action.PERSONAL
    if cls is None and walked_into(field) is not None:
        return _Action.WALK
    # NEVER_STORED, or a scalar/map nobody classified: fail closed.
    assert cls is None or cls in NEVER_STORED
    return _Action.DROP


@lru_cache(maxsize=512)
def _plan(descriptor: Descriptor) -> dict[str, tuple[_Action, FieldDescriptor]]:
    return {f.name: (_action(f), f) for f in descriptor.fields}


def redact(
    message: dict[str, object], descriptor: Descriptor, personal: Transform | None
) -> dict[str, object]:
    """``message`` (proto field names as keys) as this audience may store it."""
    plan = _plan(descriptor)
    out: dict[str, object] = {}
    for name, value in message.items():
        step = plan.get(name)
        if step is None:
            continue
        action, field = step
        if action is _Action.KEEP:
            out[name] = value if personal is None else _public(value, personal)
        elif action is _Action.PERSONAL:
            out[name] = value if personal is None else _personal(value, field, personal)
        elif action is _Action.WALK and (nested := walked_into(field)) is not None:
            out[name] = _walk(value, nested, personal)
    return out


def _public(value: object, personal: Transform) -> object:
    """A public value as analysts see it: a group chat's item id (``group:<id>``, in the
    weekly pool's amounts and facts) pseudonymised. Which group a reader spends time in, or
    that a private group exists and earns, is not the analysts' to know (issue 15's privacy
    property); the classification is per field, this one rule is per value."""
    if isinstance(value, str):
        return personal(value) if group_of_item(value) is not None else value
    if isinstance(value, list):
        return [_public(v, personal) for v in value]
    return value


def _walk(value: object, descriptor: Descriptor, personal: Transform | None) -> object:
    if isinstance(value, list):
        return [_walk(item, descriptor, personal) for item in value]
    if isinstance(value, dict):
        return redact(value, descriptor, personal)
    return value


def _personal(value: object, field: FieldDescriptor, personal: Transform) -> object:
    """Every value under a personal field, pseudonymised; map keys too, field names not."""
    if walked_into(field) is not None:
        # A whole message classified personal: each of its leaves identifies the person.
        if isinstance(value, list):
            return [_personal(item, field, personal) for item in value]
        if isinstance(value, dict):
            return {k: _leaves(v, personal) for k, v in value.items()}
    return _leaves(value, personal)


def _leaves(value: object, personal: Transform) -> object:
    if value is None:
        return None
    if isinstance(value, str):
        return personal(value)
    if isinstance(value, list):
        return [_leaves(item, personal) for item in value]
    if isinstance(value, dict):
        # A map: its keys are values of the field as much as its values are.
        return {personal(str(k)): _leaves(v, personal) for k, v in value.items()}
    # A number or flag that identifies someone becomes the pseudonym of its text.
    return personal(str(value))
