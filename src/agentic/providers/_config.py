"""Provider configuration: a TOML file, `${VAR}` substitution from the environment."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from agentic.errors import ConfigurationError
from agentic.providers._anthropic import AnthropicProvider
from agentic.providers._models import Capabilities, Pricing
from agentic.providers._offline import OfflineProvider
from agentic.providers._openai import OpenAICompatibleProvider
from agentic.providers._protocol import Provider
from agentic.providers._script import ToolRule
from agentic.providers._settings import api_key_problem, base_url_problem

__all__ = [
    "DEFAULT_PROVIDER",
    "ProviderConfig",
    "ProvidersConfig",
    "build_provider",
    "default_provider",
    "load_config",
    "load_providers",
    "substitute_env",
]

DEFAULT_PROVIDER = "offline"
"""The name of the provider used when nothing else is configured."""

# `$${` (a literal `${`), `${VAR}` / `${VAR:-default}`, or any other `${` (an error).
_VAR = re.compile(r"\$\$\{|\$\{(?:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\})?")
_OPENAI_PRESETS = {
    "openai": "https://api.openai.com/v1",
    "ollama": "http://localhost:11434/v1",
    "groq": "https://api.groq.com/openai/v1",
    "together": "https://api.together.xyz/v1",
    "vllm": "http://localhost:8000/v1",
}

ProviderKind = Literal["offline", "openai", "anthropic", "ollama", "groq", "together", "vllm"]
"""What a configured provider speaks; the last four are OpenAI-compatible presets."""


class ProviderConfig(BaseModel):
    """The settings of one provider; `api_key` is a `SecretStr` and never printed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    """Its name (the table's key in the file)."""
    kind: ProviderKind = "offline"
    """The wire protocol (or OpenAI-compatible preset)."""
    model: str | None = None
    """The default model (required except for offline)."""
    base_url: str | None = None
    """The API root (a preset's or the vendor's by default)."""
    api_key: SecretStr | None = None
    """The key, usually `"${SOME_API_KEY}"` in the file."""
    timeout: float = Field(default=60.0, gt=0)
    """Seconds per read/write."""
    connect_timeout: float = Field(default=10.0, gt=0)
    """Seconds to connect."""
    headers: dict[str, str] = Field(default_factory=dict)
    """Extra, non-secret headers."""
    pricing: Pricing | None = None
    """Token prices per 1k tokens."""
    capabilities: Capabilities | None = None
    """What the model can do (the provider's defaults otherwise)."""
    max_tokens: int | None = Field(default=None, gt=0)
    """Anthropic: the default `max_tokens`."""
    max_tokens_field: str = "max_tokens"
    """OpenAI-compatible: the body field for max tokens."""
    replies: list[Any] = Field(default_factory=list)
    """Offline: scripted replies."""
    rules: list[ToolRule] = Field(default_factory=list)
    """Offline: tool-call rules."""
    script: str | None = None
    """Offline: a JSON/TOML script file (relative to the config file)."""
    echo_prefix: str = ""
    """Offline: text before echoed messages."""
    when_exhausted: Literal["echo", "cycle", "error"] = "echo"
    """Offline: what to do when the script runs out."""

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        problem = None if value is None else base_url_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("api_key")
    @classmethod
    def _check_api_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        key = value.get_secret_value().strip()
        problem = api_key_problem(key)
        if problem is not None:
            raise ValueError(problem)
        return SecretStr(key)

    def missing_setting(self) -> str | None:
        """Return the required setting this kind of provider lacks (`model`, `api_key`)."""
        if self.kind != "offline" and not self.model:
            return "model"
        if self.kind == "anthropic" and self.api_key is None:
            return "api_key"
        return None


class ProvidersConfig(BaseModel):
    """A whole configuration file: the providers by name and which one is the default."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default: str = DEFAULT_PROVIDER
    """The provider to use when none is named."""
    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    """The providers by name (an `offline` one is always added if missing)."""


def substitute_env(value: Any, env: Mapping[str, str], *, where: str = "config") -> Any:
    """Replace `${VAR}` (or `${VAR:-default}`) in every string inside `value`.

    As in the shell, `${VAR:-default}` gives the default when `VAR` is unset or empty.
    `$${` stands for a literal `${`; any other `${` is an error.

    Raises:
        ConfigurationError: A variable without a default is not set, or a `${` opens
            no supported form; the message names the variable and `where` (the file
            and key).
    """
    if isinstance(value, str):

        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$${":
                return "${"
            var, default = match.group(1), match.group(2)
            if var is None:
                # The text is not quoted: it may hold a key (`${KEY-sk-...}`).
                msg = (
                    f"unsupported substitution at character {match.start()} of {where}: "
                    "write ${VAR} or ${VAR:-default} (or $${ for a literal ${)"
                )
                raise ConfigurationError(msg)
            if default is not None and not env.get(var):
                return default  # `:-`, as in the shell: unset or empty takes the default
            if var in env:
                return env[var]
            msg = f"environment variable {var!r} is not set (used in {where})"
            raise ConfigurationError(msg)

        return _VAR.sub(replace, value)
    if isinstance(value, dict):
        return {k: substitute_env(v, env, where=f"{where}: {k}") for k, v in value.items()}
    if isinstance(value, list):
        return [substitute_env(v, env, where=where) for v in value]
    return value


def _describe(exc: ValidationError) -> str:
    # Never include the input values: they may hold a key.
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}"
        for e in exc.errors(include_input=False, include_url=False)
    )


def load_config(path: str | Path, *, env: Mapping[str, str] | None = None) -> ProvidersConfig:
    """Read a providers TOML file, substituting `${VAR}` from `env` (default `os.environ`).

    Raises:
        ConfigurationError: The file is missing or invalid, or a variable is unset;
            the message names the file.
    """
    path = Path(path)
    env = os.environ if env is None else env
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        msg = f"cannot read provider config {str(path)!r}: {exc}"
        raise ConfigurationError(msg) from None
    data = substitute_env(data, env, where=str(path))
    providers = data.get("providers", {})
    if not isinstance(providers, dict):
        msg = f"provider config {str(path)!r}: [providers] must be a table"
        raise ConfigurationError(msg)
    for name, table in providers.items():
        if isinstance(table, dict):
            table.setdefault("name", name)
            if table.get("script") and not Path(table["script"]).is_absolute():
                table["script"] = str(path.parent / table["script"])
    try:
        config = ProvidersConfig.model_validate(data)
    except ValidationError as exc:
        msg = f"invalid provider config {str(path)!r}: {_describe(exc)}"
        raise ConfigurationError(msg) from None
    if DEFAULT_PROVIDER not in config.providers:
        offline = ProviderConfig(name=DEFAULT_PROVIDER)
        config = config.model_copy(update={"providers": {**config.providers, "offline": offline}})
    _check_required(config, path)
    if config.default not in config.providers:
        msg = f"provider config {str(path)!r}: default {config.default!r} is not a provider"
        raise ConfigurationError(msg)
    return config


def _check_required(config: ProvidersConfig, path: Path) -> None:
    for name, provider in config.providers.items():
        missing = provider.missing_setting()
        if missing is not None:
            msg = (
                f"invalid provider config {str(path)!r}: providers.{name}.{missing}: "
                f"required for kind {provider.kind!r}"
            )
            raise ConfigurationError(msg)


def build_provider(config: ProviderConfig) -> Provider:
    """Create the provider a config describes.

    Raises:
        ConfigurationError: A required setting (a model, a key) is missing.
    """
    if config.kind == "offline":
        options: dict[str, Any] = {
            "rules": config.rules,
            "echo_prefix": config.echo_prefix,
            "when_exhausted": config.when_exhausted,
            "name": config.name,
            "model": config.model or "offline",
            "capabilities": config.capabilities,
            "pricing": config.pricing,
        }
        if config.script:
            return OfflineProvider.from_file(config.script, **options)
        return OfflineProvider(config.replies, **options)
    missing = config.missing_setting()
    if missing is not None:
        article = "an" if missing == "api_key" else "a"
        msg = f"provider {config.name!r} ({config.kind}) needs {article} {missing}"
        raise ConfigurationError(msg)
    common: dict[str, Any] = {
        "model": config.model,
        "api_key": config.api_key,
        "name": config.name,
        "timeout": config.timeout,
        "connect_timeout": config.connect_timeout,
        "headers": config.headers,
        "pricing": config.pricing,
        "capabilities": config.capabilities,
    }
    if config.kind == "anthropic":
        return AnthropicProvider(
            base_url=config.base_url or "https://api.anthropic.com",
            max_tokens=config.max_tokens or 4096,
            **common,
        )
    return OpenAICompatibleProvider(
        base_url=config.base_url or _OPENAI_PRESETS[config.kind],
        max_tokens_field=config.max_tokens_field,
        **common,
    )


def default_provider() -> OfflineProvider:
    """Return the default provider: an echoing `OfflineProvider` named `offline`."""
    return OfflineProvider(name=DEFAULT_PROVIDER)


def load_providers(
    path: str | Path | None = None, *, env: Mapping[str, str] | None = None
) -> dict[str, Provider]:
    """Build every provider of a config file (just the default offline one without a file).

    The result always holds an `offline` provider.

    Raises:
        ConfigurationError: See [`load_config`][agentic.providers.load_config] and
            [`build_provider`][agentic.providers.build_provider].
    """
    if path is None:
        return {DEFAULT_PROVIDER: default_provider()}
    config = load_config(path, env=env)
    return {name: build_provider(c) for name, c in config.providers.items()}
