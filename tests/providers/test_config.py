"""Provider configuration from TOML with ${VAR} substitution."""

import asyncio

import pytest

from agentic.errors import ConfigurationError
from agentic.providers import (
    AnthropicProvider,
    ChatMessage,
    OfflineProvider,
    OpenAICompatibleProvider,
    Pricing,
    ProviderConfig,
    build_provider,
    default_provider,
    load_config,
    load_providers,
    substitute_env,
)

CONFIG = """
default = "gpt"

[providers.gpt]
kind = "openai"
model = "gpt-4o-mini"
api_key = "${OPENAI_API_KEY}"
timeout = 30
pricing = { input_per_1k = 0.00015, output_per_1k = 0.0006 }

[providers.claude]
kind = "anthropic"
model = "claude-sonnet-4-5"
api_key = "${ANTHROPIC_API_KEY}"
max_tokens = 2048

[providers.local]
kind = "ollama"
model = "llama3.2"
base_url = "http://${OLLAMA_HOST:-localhost:11434}/v1"

[providers.demo]
kind = "offline"
replies = ["Hello from the demo."]
[[providers.demo.rules]]
pattern = "weather in (\\\\w+)"
tool = "weather"
arguments = { city = "{1}" }
"""
ENV = {"OPENAI_API_KEY": "sk-o", "ANTHROPIC_API_KEY": "sk-a"}


def write(tmp_path, text, name="providers.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


class TestLoading:
    def test_loads_every_kind(self, tmp_path):
        """Each table becomes the provider its kind names; offline is always added."""
        providers = load_providers(write(tmp_path, CONFIG), env=ENV)
        assert sorted(providers) == ["claude", "demo", "gpt", "local", "offline"]
        gpt, claude, local = providers["gpt"], providers["claude"], providers["local"]
        assert isinstance(gpt, OpenAICompatibleProvider)
        assert isinstance(claude, AnthropicProvider)
        assert isinstance(local, OpenAICompatibleProvider)
        assert claude.max_tokens == 2048
        assert local.base_url == "http://localhost:11434/v1"
        assert gpt.base_url == "https://api.openai.com/v1"
        assert gpt.pricing == Pricing(input_per_1k=0.00015, output_per_1k=0.0006)
        assert isinstance(providers["offline"], OfflineProvider)

    def test_default_and_substitution(self, tmp_path):
        """default names a provider; ${VAR} and ${VAR:-default} are substituted."""
        config = load_config(write(tmp_path, CONFIG), env={**ENV, "OLLAMA_HOST": "gpu:1"})
        assert config.default == "gpt"
        key = config.providers["gpt"].api_key
        assert key is not None
        assert key.get_secret_value() == "sk-o"
        assert config.providers["local"].base_url == "http://gpu:1/v1"

    def test_offline_from_config_answers(self, tmp_path):
        """An offline table's replies and rules drive the provider."""
        demo = load_providers(write(tmp_path, CONFIG), env=ENV)["demo"]
        assert (
            asyncio.run(demo.complete([ChatMessage.user("hi")])).content == "Hello from the demo."
        )

    def test_script_path_is_relative_to_the_file(self, tmp_path):
        """An offline `script` path is resolved next to the config file."""
        (tmp_path / "script.json").write_text('["scripted"]')
        path = write(tmp_path, '[providers.offline]\nkind = "offline"\nscript = "script.json"\n')
        provider = load_providers(path)["offline"]
        assert asyncio.run(provider.complete([ChatMessage.user("x")])).content == "scripted"

    def test_no_file_gives_the_default_offline_provider(self):
        """Without a file there is just the offline provider."""
        providers = load_providers()
        assert list(providers) == ["offline"]
        assert repr(default_provider()) == repr(providers["offline"])


class TestErrors:
    def test_missing_variable_names_it_and_the_file(self, tmp_path):
        """An unset ${VAR} raises ConfigurationError naming the variable and the file."""
        path = write(tmp_path, CONFIG, "team.toml")
        with pytest.raises(
            ConfigurationError, match=r"'ANTHROPIC_API_KEY' is not set .*team\.toml"
        ):
            load_config(path, env={"OPENAI_API_KEY": "x"})

    def test_invalid_field_names_file_and_field(self, tmp_path):
        """An unknown kind or field raises ConfigurationError naming the file and field."""
        path = write(tmp_path, '[providers.x]\nkind = "nope"\n', "bad.toml")
        with pytest.raises(ConfigurationError, match=r"bad\.toml.*providers\.x\.kind"):
            load_config(path)

    def test_bad_toml_and_missing_file(self, tmp_path):
        """Unparsable or missing files raise ConfigurationError naming them."""
        with pytest.raises(ConfigurationError, match=r"broken\.toml"):
            load_config(write(tmp_path, "[providers", "broken.toml"))
        with pytest.raises(ConfigurationError, match=r"absent\.toml"):
            load_config(tmp_path / "absent.toml")

    def test_default_must_exist(self, tmp_path):
        """A default that names no provider is an error."""
        with pytest.raises(ConfigurationError, match="'ghost' is not a provider"):
            load_config(write(tmp_path, 'default = "ghost"\n'))

    def test_http_provider_needs_model_and_anthropic_a_key(self):
        """build_provider refuses an HTTP provider without a model, Anthropic without a key."""
        with pytest.raises(ConfigurationError, match="needs a model"):
            build_provider(ProviderConfig(name="x", kind="openai"))
        with pytest.raises(ConfigurationError, match="needs an api_key"):
            build_provider(ProviderConfig(name="c", kind="anthropic", model="m"))

    def test_substitute_env_walks_nested_values(self):
        """Substitution reaches strings inside tables and arrays; other values pass."""
        value = {"a": ["${X}", 1, {"b": "${Y:-y}"}], "c": True}
        assert substitute_env(value, {"X": "x"}) == {"a": ["x", 1, {"b": "y"}], "c": True}


class TestBadValues:
    def test_empty_variable_takes_the_colon_dash_default(self, tmp_path):
        """${VAR:-default} uses the default when VAR is set but empty, as the shell does."""
        config = load_config(write(tmp_path, CONFIG), env={**ENV, "OLLAMA_HOST": ""})
        assert config.providers["local"].base_url == "http://localhost:11434/v1"

    @pytest.mark.parametrize(
        "url", ["localhost:11434/v1", "http:///v1", "ftp://example.com/v1", "http://[::1/v1"]
    )
    def test_base_url_must_be_http_with_a_host(self, tmp_path, url):
        """A base_url that is not http(s)://host is refused at load, naming file and key."""
        text = f'[providers.x]\nkind = "openai"\nmodel = "m"\nbase_url = "{url}"\n'
        with pytest.raises(ConfigurationError, match=r"bad\.toml.*providers\.x\.base_url"):
            load_providers(write(tmp_path, text, "bad.toml"))

    def test_bad_base_url_is_not_a_retryable_connection_error(self):
        """A provider built with a URL it can never request refuses it at once."""
        with pytest.raises(ConfigurationError, match=r"'local'.*base_url"):
            OpenAICompatibleProvider(model="m", base_url="localhost:11434/v1", name="local")

    @pytest.mark.parametrize(
        ("table", "key"),
        [('kind = "openai"', "providers.x.model"), ('kind = "anthropic"\nmodel = "m"', "api_key")],
    )
    def test_missing_model_or_key_names_the_file(self, tmp_path, table, key):
        """A provider missing its model (or Anthropic its key) is refused naming the file."""
        path = write(tmp_path, f"[providers.x]\n{table}\n", "team.toml")
        with pytest.raises(ConfigurationError, match=rf"team\.toml.*{key}"):
            load_providers(path)


class TestSubstitutionForms:
    def test_double_dollar_keeps_a_literal(self, tmp_path):
        """`$${` writes a literal `${` (an offline reply showing a shell snippet)."""
        text = '[providers.demo]\nkind = "offline"\nreplies = ["run echo $${HOME}"]\n'
        config = load_config(write(tmp_path, text), env={"HOME": "/root"})
        assert config.providers["demo"].replies == ["run echo ${HOME}"]

    @pytest.mark.parametrize("form", ["${HOST-localhost}", "${ HOST }", "${HOST", "${1X}"])
    def test_an_unsupported_form_is_an_error_naming_file_and_key(self, tmp_path, form):
        """A `${` that is not ${VAR} or ${VAR:-default} is refused instead of kept as text."""
        text = f'[providers.x]\nkind = "openai"\nmodel = "m"\nbase_url = "http://{form}/v1"\n'
        with pytest.raises(ConfigurationError, match=r"odd\.toml.*base_url") as info:
            load_config(write(tmp_path, text, "odd.toml"), env={"HOST": "h"})
        assert "${VAR:-default}" in str(info.value)

    def test_the_unsupported_text_is_not_quoted(self, tmp_path):
        """The error does not quote the value, which may hold a literal key."""
        text = '[providers.x]\nkind = "openai"\nmodel = "m"\napi_key = "${KEY-sk-literal-123}"\n'
        with pytest.raises(ConfigurationError, match=r"providers: x: api_key") as info:
            load_config(write(tmp_path, text), env={})
        assert "sk-literal-123" not in str(info.value)
