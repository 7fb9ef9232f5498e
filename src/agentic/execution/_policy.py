"""Policy: ordered allow/deny rules over Calls, loadable from TOML or JSON."""

from __future__ import annotations

import json
import posixpath
import re
import tomllib
from collections.abc import Callable, Container, Mapping
from fnmatch import translate
from pathlib import Path
from typing import Any, Literal, NamedTuple, Self

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator

from agentic.execution._call import Call
from agentic.execution._errors import PolicyError

__all__ = ["Condition", "Decision", "Policy", "Rule"]

Effect = Literal["allow", "deny"]
Op = Literal[
    "equals", "not_equals", "in", "not_in", "glob", "regex", "under", "not_under",
    "max_length", "present", "absent",
]  # fmt: skip
_GLOB_CHARS = frozenset("*?[")


class Decision(NamedTuple):
    """What a policy decided about a Call, and why."""

    allowed: bool
    """Whether the Call may run."""
    rule: str | None
    """The rule that decided (None when the default did)."""
    reason: str
    """A sentence naming the rule or default."""


def _pattern(globs: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{translate(g)})" for g in globs) or "(?!)")


class Condition(BaseModel):
    """A test on one argument of a Call: `<argument> <op> <value>`.

    Ops: `equals`, `not_equals`, `in`, `not_in` (value is a list), `glob`, `regex`
    (the argument as a string), `under` / `not_under` (the argument is a path inside
    the directory `value`, judged lexically after normalisation; relative paths are
    taken relative to `value`), `max_length` (of a string or list), `present`,
    `absent`. A missing argument fails every op but `absent` and `not_*`. In a
    policy, a value the target's validation fills in by default is judged as if
    sent (an omitted `append` that runs as `False` equals `False`), except by
    `present` and `absent`, which are about what the caller sent.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    argument: str
    """The argument's name."""
    op: Op
    """The test."""
    value: Any = None
    """The operand (a string, number or list, as the op needs)."""

    _regex: re.Pattern[str] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _check_operand(self) -> Self:
        value, op = self.value, self.op
        if op in ("in", "not_in") and not isinstance(value, list):
            msg = f"op {op!r} needs a list value, got {type(value).__name__}"
            raise ValueError(msg)
        if op in ("glob", "regex", "under", "not_under") and not isinstance(value, str):
            msg = f"op {op!r} needs a string value, got {type(value).__name__}"
            raise ValueError(msg)
        if op == "max_length" and (not isinstance(value, int) or isinstance(value, bool)):
            msg = f"op 'max_length' needs an integer value, got {type(value).__name__}"
            raise ValueError(msg)
        if op == "glob":
            self._regex = re.compile(translate(value))
        elif op == "regex":
            try:
                self._regex = re.compile(value)
            except re.error as exc:
                msg = f"invalid regular expression {value!r}: {exc}"
                raise ValueError(msg) from exc
        return self

    def holds(  # noqa: PLR0911 - one return per op
        self, arguments: Mapping[str, Any], sent: Container[str] | None = None
    ) -> bool:
        """Return whether the condition holds for these arguments.

        Args:
            arguments: The argument values to judge.
            sent: The names the caller sent, which `present` and `absent` judge
                (default: the keys of `arguments`). Values filled in by defaults
                are judged by the other ops, but are not "present".
        """
        op = self.op
        if op in ("present", "absent"):
            given = self.argument in (arguments if sent is None else sent)
            return given if op == "present" else not given
        if self.argument not in arguments:
            return op in ("not_equals", "not_in", "not_under")
        arg = arguments[self.argument]
        if op == "equals":
            return bool(arg == self.value)
        if op == "not_equals":
            return bool(arg != self.value)
        if op == "in":
            return arg in self.value
        if op == "not_in":
            return arg not in self.value
        if op in ("glob", "regex"):
            return self._regex is not None and self._regex.fullmatch(str(arg)) is not None
        if op == "max_length":
            return isinstance(arg, (str, list, dict)) and len(arg) <= self.value
        inside = _under(str(arg), self.value)
        return inside if op == "under" else not inside


def _under(path: str, root: str) -> bool:
    if "\x00" in path:
        return False
    root = posixpath.normpath(root)
    full = posixpath.normpath(posixpath.join(root, path))
    return full == root or full.startswith(root.rstrip("/") + "/")


class Rule(BaseModel):
    """One allow or deny rule. It matches a Call when every given part matches.

    A guarded target (one whose `guarded` attribute is true, such as `run_command`)
    is allowed only by an allow rule that names it literally in `targets`; wildcard
    rules and the policy's default never allow it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    effect: Effect
    """`"allow"` or `"deny"`."""
    name: str | None = None
    """A label for messages and logs (default: the rule's position)."""
    targets: list[str] = Field(default_factory=lambda: ["*"])
    """Glob patterns over the Call's target name."""
    callers: list[str] | None = None
    """Glob patterns over the caller (None: any caller, including none)."""
    kinds: list[str] | None = None
    """Call kinds the rule covers (None: all)."""
    when: list[Condition] = Field(default_factory=list)
    """Conditions on the arguments; all must hold."""
    reason: str | None = None
    """Why the rule exists (quoted in denials)."""
    predicate: Callable[[Call], bool] | None = Field(default=None, exclude=True)
    """An extra test in code (not loadable from a file)."""

    _targets: re.Pattern[str] = PrivateAttr()
    _callers: re.Pattern[str] | None = PrivateAttr(default=None)

    def model_post_init(self, _context: Any, /) -> None:
        """Precompile the glob patterns."""
        self._targets = _pattern(self.targets)
        self._callers = None if self.callers is None else _pattern(self.callers)

    def matches(self, call: Call) -> bool:
        """Return whether the rule applies to `call`."""
        if self._targets.fullmatch(call.target) is None:
            return False
        if self._callers is not None and (
            call.caller is None or self._callers.fullmatch(call.caller) is None
        ):
            return False
        if self.kinds is not None and call.kind not in self.kinds:
            return False
        if self.when and not self._conditions_hold(call):
            return False
        return self.predicate is None or self.predicate(call)

    def _conditions_hold(self, call: Call) -> bool:
        """Judge the conditions on the arguments as sent and as the target will get them.

        Validation may coerce (`"22"` to `22`) and fill in defaults (an omitted
        `append` runs as `False`), so a value that slips past a rule as sent could
        still run as the value the rule is about. A deny rule therefore matches if
        its conditions hold for either form, an allow rule only if they hold for
        both. `present` and `absent` judge the arguments the caller sent, in both.
        """
        raw = call.arguments
        validated = call._private()["_validated"]  # noqa: SLF001 - same package
        if not isinstance(validated, Mapping) or validated is raw:
            return all(cond.holds(raw) for cond in self.when)
        effective = {**raw, **validated}  # what runs, and anything validation dropped
        results = (all(cond.holds(view, raw) for cond in self.when) for view in (raw, effective))
        return any(results) if self.effect == "deny" else all(results)

    def names_literally(self, target: str) -> bool:
        """Return whether `targets` lists `target` without wildcards."""
        return any(t == target and not (_GLOB_CHARS & set(t)) for t in self.targets)


class Policy(BaseModel):
    """Ordered rules: the first rule that matches a Call decides; else the default.

    Example (TOML):

    ```toml
    default = "allow"

    [[rules]]
    name = "writes stay in the workspace"
    effect = "deny"
    targets = ["write_file"]
    when = [{ argument = "path", op = "not_under", value = "/work/space" }]

    [[rules]]
    name = "ops may run commands"
    effect = "allow"
    targets = ["run_command"]
    callers = ["ops-*"]
    ```
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    default: Effect = "allow"
    """What happens to a Call no rule matches."""
    rules: list[Rule] = Field(default_factory=list)
    """The rules, in order."""

    def decide(self, call: Call, *, guarded: bool = False) -> Decision:
        """Decide whether `call` may run.

        Args:
            call: The Call.
            guarded: The target is guarded: only an allow rule naming it literally
                allows it.
        """
        for index, rule in enumerate(self.rules):
            if not rule.matches(call):
                continue
            label = rule.name or f"#{index + 1}"
            if rule.effect == "deny":
                why = f": {rule.reason}" if rule.reason else ""
                return Decision(
                    allowed=False, rule=label, reason=f"denied by policy rule {label!r}{why}"
                )
            if guarded and not rule.names_literally(call.target):
                continue
            return Decision(allowed=True, rule=label, reason=f"allowed by policy rule {label!r}")
        if guarded:
            reason = (
                f"target {call.target!r} is guarded: denied unless a policy rule allows it by name"
            )
            return Decision(allowed=False, rule=None, reason=reason)
        if self.default == "deny":
            reason = f"denied by the policy default (no rule matched {call.target!r})"
            return Decision(allowed=False, rule=None, reason=reason)
        return Decision(allowed=True, rule=None, reason="allowed by the policy default")

    # -- loading ------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "policy") -> Self:
        """Build a policy from a parsed document.

        Raises:
            PolicyError: The document does not describe a policy; the message names
                the rule (by name or position) and the field at fault.
        """
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            raise _policy_error(exc, data, source) from None

    @classmethod
    def from_file(cls, path: str | Path) -> Self:
        """Load a policy from a `.toml` or `.json` file.

        Raises:
            PolicyError: The file cannot be read or parsed, or its content is not a
                valid policy (the message names the file, the rule and the field).
        """
        path = Path(path)
        source = str(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            msg = f"cannot read policy file {source}: {exc}"
            raise PolicyError(msg, source=source) from exc
        suffix = path.suffix.lower()
        try:
            if suffix == ".toml":
                data: Any = tomllib.loads(text)
            elif suffix == ".json":
                data = json.loads(text)
            else:
                msg = f"policy file {source} must end in .toml or .json, not {suffix or '(none)'!r}"
                raise PolicyError(msg, source=source)
        except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
            msg = f"policy file {source} is not valid {suffix[1:].upper()}: {exc}"
            raise PolicyError(msg, source=source) from exc
        return cls.from_dict(data, source=source)


def _policy_error(exc: ValidationError, data: Any, source: str) -> PolicyError:
    first = exc.errors(include_url=False)[0]
    loc = list(first["loc"])
    rule: str | None = None
    if len(loc) >= 2 and loc[0] == "rules" and isinstance(loc[1], int):  # noqa: PLR2004 - ("rules", n, ...)
        index = loc[1]
        label = f"#{index + 1}"
        raw = data.get("rules") if isinstance(data, dict) else None
        if isinstance(raw, list) and index < len(raw) and isinstance(raw[index], dict):
            name = raw[index].get("name")
            if isinstance(name, str):
                label = f"{label} ({name!r})"
        rule = label
        loc = loc[2:]
    field = ".".join(str(part) for part in loc) or None
    where = f"rule {rule}" if rule else "policy"
    what = f"field {field!r}" if field else "its shape"
    text = first["msg"].removeprefix("Value error, ")
    msg = f"{source}: {where}: {what}: {text}"
    return PolicyError(msg, source=source, rule=rule, field=field)
