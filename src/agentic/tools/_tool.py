"""Tool: a typed Python callable, with a JSON Schema, that a Call can invoke."""

from __future__ import annotations

import functools
import inspect
import re
from collections.abc import Callable
from typing import Annotated, Any, get_type_hints, overload

import orjson
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.errors import PydanticSchemaGenerationError, PydanticUserError
from pydantic.fields import FieldInfo

from agentic.execution import ArgumentValidationError, ThreadRunner
from agentic.tools._docstring import parse_docstring
from agentic.tools._errors import ToolDefinitionError, ToolResultError

__all__ = ["DEFAULT_MAX_RESULT_BYTES", "Tool", "tool"]

DEFAULT_MAX_RESULT_BYTES = 1_000_000
"""The largest result (as JSON bytes) a tool may return unless configured otherwise."""

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_JSON_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY
_SCALARS = (bool, int, float, type(None))


class Tool:
    """A typed callable that Calls invoke by name; implements the execution `Target`.

    The JSON Schema of its parameters comes from the signature (types, defaults)
    and the Google-style docstring (the summary becomes the description, the `Args:`
    entries the parameter descriptions), through pydantic. Arguments are validated
    and coerced before the call; unknown arguments are refused.

    Sync callables run in a worker thread by default (`blocking=True`), so a slow
    one never stalls the event loop and a timeout can abandon it; pass
    `blocking=False` for quick pure functions, which then run on the loop.

    The result must be JSON-serializable and at most `max_result_bytes` as JSON, or
    the invocation fails with a [`ToolResultError`][agentic.tools.ToolResultError].

    Example:
        >>> def add(a: int, b: int = 1) -> int:
        ...     '''Add two numbers.
        ...
        ...     Args:
        ...         a: The first.
        ...         b: The second.
        ...     '''
        ...     return a + b
        >>> t = Tool(add)
        >>> t.schema()["parameters"]["properties"]["a"]
        {'description': 'The first.', 'type': 'integer'}
        >>> t.validate({"a": "2"})
        {'a': 2, 'b': 1}
    """

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        guarded: bool = False,
        blocking: bool = True,
        max_result_bytes: int | None = DEFAULT_MAX_RESULT_BYTES,
        runner: ThreadRunner | None = None,
    ) -> None:
        """Make a tool of `func`.

        Args:
            func: Any typed callable, sync or async (a coroutine function). Keywords
                bound by a `functools.partial` are fixed: they are not parameters.
                A pydantic `Field(...)` as a default gives the parameter its
                default, constraints and description.
            name: The tool's name (default: the function's name); letters, digits,
                `_` and `-`, at most 64.
            description: What it does (default: the docstring's summary).
            guarded: Run only when a policy rule names it explicitly.
            blocking: Run a sync callable in a worker thread (True) or on the loop.
            max_result_bytes: The largest result, in bytes of JSON (None: no limit).
            runner: The thread runner for sync callables (default: its own).

        Raises:
            ToolDefinitionError: The callable cannot be described by a schema
                (`*args`/`**kwargs`, positional-only parameters, a type pydantic
                cannot handle, an invalid name).
        """
        name = name or getattr(func, "__name__", None)
        if not isinstance(name, str) or not _NAME.match(name):
            msg = f"tool name {name!r} is invalid: use 1-64 letters, digits, '_' or '-'"
            raise ToolDefinitionError(msg)
        self.name: str = name
        """The name Calls use."""
        self.func = func
        """The wrapped callable."""
        self.guarded = guarded
        """Whether only a policy rule naming it may allow it."""
        self.blocking = blocking
        """Whether a sync callable runs in a worker thread."""
        self.max_result_bytes = max_result_bytes
        """The largest result in bytes of JSON (None: no limit)."""
        self.runner = runner if runner is not None else ThreadRunner(name=f"tool-{name}")
        """Runs sync callables in threads and counts the abandoned ones."""
        self.is_async = _is_async(func)
        """Whether the callable is a coroutine function."""
        summary, arg_docs = parse_docstring(inspect.getdoc(_unwrap_partial(func)[0]))
        self.description: str = description if description is not None else summary
        """What the tool does."""
        self._model, self._fields = _arguments_model(func, name, arg_docs)
        self.parameters: dict[str, Any] = _json_schema(self._model, name)
        """The JSON Schema of the arguments."""

    def __repr__(self) -> str:
        """Show the tool's name."""
        return f"Tool({self.name!r})"

    # -- schema -------------------------------------------------------------------

    def schema(self) -> dict[str, Any]:
        """Return `{"name", "description", "parameters"}` for providers."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters}

    def openai_schema(self) -> dict[str, Any]:
        """Return the tool in OpenAI's function-calling format."""
        return {"type": "function", "function": self.schema()}

    def anthropic_schema(self) -> dict[str, Any]:
        """Return the tool in Anthropic's tool-use format."""
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": self.parameters,
        }

    # -- Target -------------------------------------------------------------------

    def validate(self, arguments: dict[str, Any]) -> dict[str, Any]:
        """Check and coerce `arguments`; return them with defaults filled in.

        Raises:
            ArgumentValidationError: A missing, unknown or ill-typed argument (the
                message names the tool and each argument at fault).
        """
        if not isinstance(arguments, dict):
            kind = type(arguments).__name__
            msg = f"arguments for tool {self.name!r} must be an object, not {kind}"
            raise ArgumentValidationError(msg, target=self.name)
        try:
            model = self._model.model_validate(arguments)
        except ValidationError as exc:
            errors = exc.errors(include_url=False, include_input=False)
            parts = [
                f"{'.'.join(str(p) for p in err['loc']) or '(arguments)'}: {err['msg']}"
                for err in errors[:5]
            ]
            more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""  # noqa: PLR2004
            msg = f"arguments for tool {self.name!r} are invalid: {'; '.join(parts)}{more}"
            raise ArgumentValidationError(msg, target=self.name, errors=errors) from None
        values = model.__dict__
        return {param: values[field] for field, param in self._fields}

    async def invoke(self, arguments: dict[str, Any]) -> Any:
        """Call the tool with validated arguments and return its checked result.

        Raises:
            ToolResultError: The result is not JSON-serializable, or too large.
        """
        if self.is_async:
            result = await self.func(**arguments)
        elif self.blocking:
            result = await self.runner.run(self.func, **arguments)
        else:
            result = self.func(**arguments)
        if inspect.isawaitable(result):
            result = await result
        return self._checked(result)

    def _checked(self, result: Any) -> Any:
        if isinstance(result, _SCALARS):
            return result
        if isinstance(result, BaseModel):
            result = result.model_dump(mode="json")
        try:
            data = orjson.dumps(result, option=_JSON_OPTIONS)
        except TypeError as exc:
            msg = (
                f"tool {self.name!r} returned a {type(result).__name__} that is not "
                f"JSON-serializable: {exc}"
            )
            raise ToolResultError(msg) from None
        limit = self.max_result_bytes
        if limit is not None and len(data) > limit:
            msg = (
                f"tool {self.name!r} returned {len(data):,} bytes of JSON, "
                f"more than its limit of {limit:,}"
            )
            raise ToolResultError(msg)
        return result


@overload
def tool(func: Callable[..., Any], /) -> Tool: ...
@overload
def tool(
    *,
    name: str | None = None,
    description: str | None = None,
    guarded: bool = False,
    blocking: bool = True,
    max_result_bytes: int | None = DEFAULT_MAX_RESULT_BYTES,
) -> Callable[[Callable[..., Any]], Tool]: ...
def tool(
    func: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    guarded: bool = False,
    blocking: bool = True,
    max_result_bytes: int | None = DEFAULT_MAX_RESULT_BYTES,
) -> Tool | Callable[[Callable[..., Any]], Tool]:
    """Make a [`Tool`][agentic.tools.Tool] of a function; usable as `@tool` or `@tool(...)`."""

    def make(f: Callable[..., Any]) -> Tool:
        return Tool(
            f,
            name=name,
            description=description,
            guarded=guarded,
            blocking=blocking,
            max_result_bytes=max_result_bytes,
        )

    return make if func is None else make(func)


def _is_async(func: Callable[..., Any]) -> bool:
    if inspect.isasyncgenfunction(func):
        msg = f"{func!r} is an async generator; a tool must return (or be awaited to) a value"
        raise ToolDefinitionError(msg)
    call = getattr(func, "__call__", None)  # noqa: B004 - async __call__ on callable objects
    return inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(call)


def _unwrap_partial(func: Callable[..., Any]) -> tuple[Callable[..., Any], set[str]]:
    """Return the callable inside any `functools.partial`s, and the keywords they bind."""
    fixed: set[str] = set()
    while isinstance(func, functools.partial):
        fixed.update(func.keywords)
        func = func.func
    return func, fixed


def _arguments_model(
    func: Callable[..., Any], name: str, docs: dict[str, str]
) -> tuple[type[BaseModel], list[tuple[str, str]]]:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError) as exc:
        msg = f"tool {name!r}: cannot read the signature of {func!r}: {exc}"
        raise ToolDefinitionError(msg) from exc
    inner, fixed = _unwrap_partial(func)
    try:
        target = inner if inspect.isroutine(inner) else type(inner).__call__
        hints = get_type_hints(target, include_extras=True)
    except Exception as exc:  # any failure to resolve annotations
        msg = f"tool {name!r}: cannot resolve the type annotations of {func!r}: {exc}"
        raise ToolDefinitionError(msg) from exc
    fields: dict[str, Any] = {}
    names: list[tuple[str, str]] = []
    for index, param in enumerate(signature.parameters.values()):
        if param.name in fixed:  # bound by a partial: its value is not the caller's to give
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            msg = (
                f"tool {name!r}: parameter {param.name!r} is {param.kind.description}; "
                "tools take named parameters only"
            )
            raise ToolDefinitionError(msg)
        annotation = hints.get(param.name, Any)
        description = docs.get(param.name)
        # Internal field names avoid clashes with BaseModel's own attributes
        # (`json`, `schema`, `model_*`); the parameter's name is the alias.
        field = f"p{index}"
        if isinstance(param.default, FieldInfo):
            # `x: int = Field(3, ge=1)`: its default and constraints are the field's
            # (as in pydantic's validate_call), not a default that is a FieldInfo.
            outer = (  # the Field's own description wins over the docstring's
                Field(alias=param.name)
                if param.default.description is not None or description is None
                else Field(alias=param.name, description=description)
            )
            fields[field] = (Annotated[annotation, param.default], outer)
        else:
            default = ... if param.default is param.empty else param.default
            fields[field] = (
                annotation,
                Field(default, alias=param.name, description=description),
            )
        names.append((field, param.name))
    config = ConfigDict(extra="forbid", populate_by_name=False, arbitrary_types_allowed=False)
    try:
        model = create_model(f"{name}_arguments", __config__=config, **fields)
    except (PydanticSchemaGenerationError, PydanticUserError, TypeError) as exc:
        msg = f"tool {name!r}: its parameters cannot be validated: {exc}"
        raise ToolDefinitionError(msg) from exc
    return model, names


def _json_schema(model: type[BaseModel], name: str) -> dict[str, Any]:
    try:
        schema = model.model_json_schema(by_alias=True)
    except (PydanticSchemaGenerationError, PydanticUserError, TypeError) as exc:
        msg = f"tool {name!r}: its parameters have no JSON Schema: {exc}"
        raise ToolDefinitionError(msg) from exc
    schema.pop("title", None)
    for prop in schema.get("properties", {}).values():
        if isinstance(prop, dict):
            prop.pop("title", None)
    return schema
