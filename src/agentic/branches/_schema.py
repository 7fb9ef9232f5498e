"""A small JSON Schema check: enough of the draft pydantic emits to judge model answers.

A Branch receives the schema of a structured answer as a value (the pydantic class
stays with the caller), so it checks answers against the schema itself: types,
`properties`/`required`/`additionalProperties`, `items`, `enum`/`const`,
`anyOf`/`oneOf`/`allOf`, local `$ref`s into `$defs`, and the usual numeric, length
and size bounds. Like pydantic's lax mode it takes numeric strings for numbers.
Keywords it does not know are ignored (the caller's own validation has the last word).
"""

from __future__ import annotations

from typing import Any

__all__ = ["schema_errors"]

_TYPES: dict[str, tuple[type, ...]] = {
    "object": (dict,),
    "array": (list,),
    "string": (str,),
    "number": (int, float),
    "integer": (int,),
    "boolean": (bool,),
    "null": (type(None),),
}
_MAX_ERRORS = 10


def schema_errors(value: Any, schema: dict[str, Any]) -> list[str]:
    """Return why `value` does not match `schema` (empty when it matches).

    Example:
        >>> schema_errors({"x": "1"}, {"type": "object", "required": ["x", "y"],
        ...     "properties": {"x": {"type": "integer"}}})
        ['<root>: missing required property y', 'x: expected integer, got string']
    """
    errors: list[str] = []
    _check(value, schema, schema, "", errors)
    return errors[:_MAX_ERRORS]


def _type_name(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    for name, kinds in _TYPES.items():
        if name not in ("number", "boolean") and isinstance(value, kinds):
            return name
    return "number" if isinstance(value, float) else type(value).__name__


def _is(value: Any, kind: str) -> bool:
    if kind in ("number", "integer") and isinstance(value, bool):
        return False
    if kind in ("number", "integer") and isinstance(value, str):
        # pydantic's lax mode takes numeric strings; so does this check.
        try:
            number = float(value)
        except ValueError:
            return False
        return kind == "number" or number.is_integer()
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _TYPES.get(kind, (object,)))


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and seen < _MAX_ERRORS:
        ref = schema["$ref"]
        node: Any = root
        if isinstance(ref, str) and ref.startswith("#/"):
            for part in ref[2:].split("/"):
                node = node.get(part, {}) if isinstance(node, dict) else {}
        schema = node if isinstance(node, dict) else {}
        seen += 1
    return schema


def _check(value: Any, schema: Any, root: dict[str, Any], path: str, errors: list[str]) -> None:
    if not isinstance(schema, dict) or len(errors) >= _MAX_ERRORS:
        return
    schema = _resolve(schema, root)
    where = path or "<root>"
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_is(value, k) for k in kinds):
            errors.append(f"{where}: expected {' or '.join(kinds)}, got {_type_name(value)}")
            return
    if "const" in schema and value != schema["const"]:
        errors.append(f"{where}: must be {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errors.append(f"{where}: must be one of {schema['enum']!r}")
    _check_combinators(value, schema, root, path, errors)
    if isinstance(value, dict):
        _check_object(value, schema, root, path, errors)
    elif isinstance(value, list):
        _check_array(value, schema, root, path, errors)
    else:
        _check_scalar(value, schema, where, errors)


def _check_scalar(value: Any, schema: dict[str, Any], where: str, errors: list[str]) -> None:
    if isinstance(value, str):
        _bounds(len(value), schema, ("minLength", "maxLength"), where, "characters", errors=errors)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errors.append(f"{where}: must be >= {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errors.append(f"{where}: must be <= {schema['maximum']}")


def _check_combinators(
    value: Any, schema: dict[str, Any], root: dict[str, Any], path: str, errors: list[str]
) -> None:
    for sub in schema.get("allOf", ()):
        _check(value, sub, root, path, errors)
    for key in ("anyOf", "oneOf"):
        options = schema.get(key)
        if options and not any(not schema_errors_at(value, o, root) for o in options):
            errors.append(f"{path or '<root>'}: matches none of the {key} options")


def schema_errors_at(value: Any, schema: Any, root: dict[str, Any]) -> list[str]:
    """Return the errors of `value` against a sub-schema of `root`."""
    errors: list[str] = []
    _check(value, schema, root, "", errors)
    return errors


def _check_object(
    value: dict[str, Any],
    schema: dict[str, Any],
    root: dict[str, Any],
    path: str,
    errors: list[str],
) -> None:
    where = path or "<root>"
    properties = schema.get("properties", {})
    errors.extend(
        f"{where}: missing required property {name}"
        for name in schema.get("required", ())
        if name not in value
    )
    extra = schema.get("additionalProperties", True)
    for key, item in value.items():
        child = f"{path}.{key}" if path else str(key)
        if key in properties:
            _check(item, properties[key], root, child, errors)
        elif extra is False:
            errors.append(f"{where}: unexpected property {key}")
        elif isinstance(extra, dict):
            _check(item, extra, root, child, errors)
    _bounds(
        len(value), schema, ("minProperties", "maxProperties"), where, "properties", errors=errors
    )


def _check_array(
    value: list[Any], schema: dict[str, Any], root: dict[str, Any], path: str, errors: list[str]
) -> None:
    items = schema.get("items")
    if isinstance(items, dict):
        for index, item in enumerate(value):
            _check(item, items, root, f"{path}[{index}]", errors)
    _bounds(len(value), schema, ("minItems", "maxItems"), path or "<root>", "items", errors=errors)


def _bounds(
    size: int,
    schema: dict[str, Any],
    keys: tuple[str, str],
    where: str,
    unit: str,
    *,
    errors: list[str],
) -> None:
    low, high = keys
    if low in schema and size < schema[low]:
        errors.append(f"{where}: needs at least {schema[low]} {unit}")
    if high in schema and size > schema[high]:
        errors.append(f"{where}: allows at most {schema[high]} {unit}")
