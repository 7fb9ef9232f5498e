"""Structured output: turn model text into JSON values and pydantic models."""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, ValidationError

from agentic.providers._errors import StructuredOutputError
from agentic.providers._jsonrepair import json_candidates, repair_json

__all__ = ["loads_json", "parse_json", "parse_model"]

M = TypeVar("M", bound=BaseModel)

_PREVIEW = 200
_LONG_DIGITS = re.compile(r"[0-9](?=[0-9]{18})")  # a lookahead scans faster than \d{19}


def loads_json(text: str) -> Any:
    """Parse strict JSON exactly (orjson; the stdlib for integers beyond 64 bits).

    Raises:
        ValueError: `text` is not valid JSON.
    """
    if _LONG_DIGITS.search(text):
        # orjson turns integers outside 64 bits into floats, silently losing digits.
        return json.loads(text)
    return orjson.loads(text)


def _decode(candidate: str) -> tuple[bool, Any]:
    try:
        return True, loads_json(candidate)
    except ValueError:
        pass
    try:  # repair only what does not parse as it is
        return True, loads_json(repair_json(candidate))
    except ValueError:
        return False, None


def _preview(text: str) -> str:
    return text if len(text) <= _PREVIEW else text[:_PREVIEW] + "..."


def parse_json(text: str) -> Any:
    """Extract and parse the JSON value in model text.

    Tries fenced ```json blocks first, then bare objects or arrays, then the whole
    text; each as given and then repaired (see
    [`repair_json`][agentic.providers.repair_json]).

    Raises:
        StructuredOutputError: No piece of `text` parses as JSON.
    """
    for candidate in json_candidates(text):
        ok, value = _decode(candidate)
        if ok:
            return value
    msg = f"no JSON value found in model output: {_preview(text)!r}"
    raise StructuredOutputError(msg, text=text, target="JSON")


def parse_model(text: str, model: type[M]) -> M:
    r"""Extract JSON from model text and validate it into `model`.

    Every candidate (see [`parse_json`][agentic.providers.parse_json]) that parses
    is validated in turn; the first that validates wins.

    Example:
        >>> class Point(BaseModel):
        ...     x: int
        ...     y: int
        >>> parse_model("Sure! ```json\n{'x': 1, y: 2,}\n```", Point)
        Point(x=1, y=2)

    Raises:
        StructuredOutputError: Nothing in `text` parses, or nothing that parses
            validates; `errors` holds pydantic's errors of the last attempt.
    """
    last: ValidationError | None = None
    for candidate in json_candidates(text):
        ok, value = _decode(candidate)
        if not ok:
            continue
        try:
            return model.model_validate(value)
        except ValidationError as exc:
            last = exc
    name = model.__name__
    if last is None:
        msg = f"no JSON value found in model output for {name}: {_preview(text)!r}"
        raise StructuredOutputError(msg, text=text, target=name)
    errors = last.errors(include_url=False, include_input=False)
    details = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in errors
    )
    msg = f"model output does not validate as {name}: {details}"
    raise StructuredOutputError(msg, text=text, target=name, errors=errors)
