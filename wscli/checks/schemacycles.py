"""Find ``$ref`` cycles that never reach the data: validation along one never ends.

A recursive schema is fine when each round descends into the message (a tree whose
``children`` items ``$ref`` the root): the data runs out. A cycle made only of
keywords that apply to the *same* place (``$ref``, ``allOf``, ``anyOf``, ``oneOf``,
``not``, ``if``/``then``/``else``, ``dependentSchemas``) loops on every message the
first branch does not settle, and jsonschema dies with ``RecursionError`` (issue #6).
``--check-schema`` and ``--schema`` reject such a schema up front.

Only references inside the schema file (``#...``, or the root ``$id`` followed by
``#...``) are followed; pure values in, problems out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

IN_PLACE_LISTS = ("allOf", "anyOf", "oneOf")
IN_PLACE_ONE = ("not", "if", "then", "else")
IN_PLACE_MAPS = ("dependentSchemas", "dependencies")
NOT_SCHEMAS = ("enum", "const", "examples", "default")  # values, not subschemas


def ref_cycles(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """``(pointer, reason)`` for the first in-place cycle found, or ``[]``."""
    nodes = dict(_subschemas(schema))
    root_id = schema.get("$id") if isinstance(schema.get("$id"), str) else None
    anchors = {
        node["$anchor"]: pointer
        for pointer, node in nodes.items()
        if isinstance(node.get("$anchor"), str)
    }
    edges = {
        pointer: [t for t in _in_place(pointer, node, root_id, anchors) if t in nodes]
        for pointer, node in nodes.items()
    }
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in nodes:
        if start in state:
            continue
        path = [start]
        state[start] = 1
        iters = [iter(edges[start])]
        while iters:
            target = next(iters[-1], None)
            if target is None:
                state[path.pop()] = 2
                iters.pop()
                continue
            if state.get(target) == 1:
                loop = [*path[path.index(target) :], target]
                shown = " -> ".join(p or "#" for p in loop)
                return [
                    (
                        loop[-2],
                        f"$ref cycle that never reaches the data ({shown}): validation"
                        " would never end; make each round descend into a property or item",
                    )
                ]
            if target not in state:
                state[target] = 1
                path.append(target)
                iters.append(iter(edges[target]))
    return []


def _subschemas(schema: object, pointer: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every object in the schema document that may be a subschema (iteratively)."""
    stack: list[tuple[str, object]] = [(pointer, schema)]
    while stack:
        where, node = stack.pop()
        if isinstance(node, dict):
            yield where, node
            for key, value in node.items():
                if key not in NOT_SCHEMAS:
                    stack.append((f"{where}/{_escape(str(key))}", value))
        elif isinstance(node, list):
            stack.extend((f"{where}/{i}", value) for i, value in enumerate(node))


def _in_place(
    pointer: str, node: dict[str, Any], root_id: str | None, anchors: dict[str, str]
) -> Iterator[str]:
    for keyword in ("$ref", "$dynamicRef", "$recursiveRef"):
        ref = node.get(keyword)
        if isinstance(ref, str):
            target = _local_target(ref, root_id, anchors)
            if target is not None:
                yield target
    for keyword in IN_PLACE_LISTS:
        items = node.get(keyword)
        if isinstance(items, list):
            yield from (f"{pointer}/{keyword}/{i}" for i in range(len(items)))
    for keyword in IN_PLACE_ONE:
        if isinstance(node.get(keyword), dict):
            yield f"{pointer}/{keyword}"
    for keyword in IN_PLACE_MAPS:
        mapping = node.get(keyword)
        if isinstance(mapping, dict):
            yield from (f"{pointer}/{keyword}/{_escape(str(k))}" for k in mapping)


def _local_target(ref: str, root_id: str | None, anchors: dict[str, str]) -> str | None:
    if root_id and ref.startswith(root_id.split("#", 1)[0] + "#"):
        ref = ref[len(root_id.split("#", 1)[0]) :]
    if not ref.startswith("#"):
        return None  # another file: not followed here
    fragment = unquote(ref[1:])
    if fragment and not fragment.startswith("/"):
        return anchors.get(fragment)
    return fragment


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")
