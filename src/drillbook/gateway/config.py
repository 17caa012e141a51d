"""The gateway's config file, in LiteLLM's format, loaded and validated with line numbers.

A bad file is reported as a list of problems, each with file, line, column and key path, so
a drill that corrupts the file sees the same precise message at startup and on reload.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from drillbook.errors import DrillbookError, Problem
from drillbook.scenario.types import Duration

ENV_PREFIX = "os.environ/"

# Provider prefixes LiteLLM routes on (the part of `model` before the first '/'), plus 'mock'.
_PROVIDERS = """ai21 anthropic azure azure_ai bedrock cerebras cohere custom_openai databricks
    deepseek fireworks_ai gemini groq hosted_vllm huggingface lm_studio mistral mock nvidia_nim
    ollama ollama_chat openai openrouter perplexity replicate sagemaker together_ai vertex_ai
    vllm watsonx xai"""
KNOWN_PROVIDERS = frozenset(_PROVIDERS.split())
_INFERRED = (("gpt-", "openai"), ("o1", "openai"), ("o3", "openai"), ("claude", "anthropic"))
_TOP_LEVEL = """model_list litellm_settings general_settings router_settings
    environment_variables callback_settings guardrails credential_list"""
TOP_LEVEL_KEYS = tuple(_TOP_LEVEL.split())
# Publicly documented placeholder keys: a gateway started with one of them is not protected.
_WEAK_KEYS = frozenset({"sk-1234", "sk-12345678", "sk-test", "sk-master", "sk-changeme"})
MIN_KEY_LENGTH = 16


class ConfigError(DrillbookError):
    """The gateway config file is invalid; every problem carries file, line and key path."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        lines = [p.render() for p in self.problems]
        super().__init__("invalid gateway config:\n  " + "\n  ".join(lines))


def provider_of(model: str, custom_provider: str | None = None) -> str:
    """'openai/gpt-4o' -> 'openai'; a bare 'gpt-4o' is inferred the way LiteLLM does."""
    if custom_provider:
        return custom_provider
    if "/" in model:
        return model.split("/", 1)[0]
    for prefix, provider in _INFERRED:
        if model.startswith(prefix):
            return provider
    return ""


def _env(info: ValidationInfo) -> Mapping[str, str]:
    ctx = info.context
    env = ctx.get("env") if isinstance(ctx, dict) else None
    return env if isinstance(env, Mapping) else os.environ


def _resolve(value: object, info: ValidationInfo, *, required: bool) -> object:
    """Resolve an 'os.environ/VAR' reference; unresolved is an error only if `required`."""
    if isinstance(value, str) and value.startswith(ENV_PREFIX):
        var = value[len(ENV_PREFIX) :]
        resolved = _env(info).get(var)
        if resolved is None and required:
            raise ValueError(
                f"{value!r} refers to the environment variable {var}, which is not set"
            )
        return resolved
    return value


class _Section(BaseModel):
    # LiteLLM accepts many more keys than a mock gateway acts on: keep them, ignore them.
    model_config = ConfigDict(frozen=True, extra="allow")


class LitellmParams(_Section):
    model: str
    api_key: SecretStr | None = None
    api_key_ref: str | None = Field(None, description="the os.environ/ reference, if any")
    api_base: str | None = None
    custom_llm_provider: str | None = None
    mock_response: str | None = None
    mock_latency: Duration = Field(0.0, description="drillbook: mock answer delay, e.g. '20ms'")
    timeout: Duration | None = None

    @model_validator(mode="before")
    @classmethod
    def _api_key_env(cls, data: Any, info: ValidationInfo) -> Any:
        if isinstance(data, dict):
            key = data.get("api_key")
            if isinstance(key, str) and key.startswith(ENV_PREFIX):
                data = {**data, "api_key_ref": key, "api_key": _resolve(key, info, required=False)}
            base = data.get("api_base")
            if isinstance(base, str) and base.startswith(ENV_PREFIX):
                data = {**data, "api_base": _resolve(base, info, required=False)}
        return data

    @field_validator("model")
    @classmethod
    def _known_provider(cls, value: str, info: ValidationInfo) -> str:
        provider = provider_of(value, info.data.get("custom_llm_provider"))
        if not provider:
            raise ValueError(
                f"cannot tell the provider of {value!r}; write it as 'provider/model' "
                "(for example 'openai/gpt-4o')"
            )
        if provider not in KNOWN_PROVIDERS:
            raise ValueError(
                f"unknown provider prefix {provider!r} in {value!r}; known: "
                + ", ".join(sorted(KNOWN_PROVIDERS))
            )
        return value

    @property
    def provider(self) -> str:
        return provider_of(self.model, self.custom_llm_provider)


class ModelInfo(_Section):
    id: str | None = None
    input_cost_per_token: float = 0.0
    output_cost_per_token: float = 0.0
    description: str | None = None


class ModelEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    model_name: str = Field(min_length=1)
    litellm_params: LitellmParams
    model_info: ModelInfo = ModelInfo()
    tpm: int | None = None
    rpm: int | None = None

    @model_validator(mode="before")
    @classmethod
    def _needs_params(cls, data: Any) -> Any:
        if isinstance(data, dict) and "litellm_params" not in data:
            name = data.get("model_name")
            label = f" (model_name {name!r})" if name else ""
            raise ValueError(f"entry{label} is missing litellm_params")
        return data


def _weakness(key: str) -> str | None:
    if not key.startswith("sk-"):
        return "must start with 'sk-'"
    if key in _WEAK_KEYS:
        return "is a published placeholder value"
    if len(key) < MIN_KEY_LENGTH:
        return f"has {len(key)} characters, needs at least {MIN_KEY_LENGTH}"
    if len(set(key[3:])) < 6:
        return "repeats too few distinct characters"
    return None


class GeneralSettings(_Section):
    master_key: SecretStr | None = None
    database_url: SecretStr | None = None
    disable_prisma_schema_update: bool = False
    ops_api_requires_key: bool = Field(
        False, description="drillbook: require a key on /api/v1 and /admin (seeds call them bare)"
    )
    virtual_key_cache_ttl: Duration = 5.0

    @field_validator("master_key", "database_url", mode="before")
    @classmethod
    def _from_env(cls, value: Any, info: ValidationInfo) -> Any:
        return _resolve(value, info, required=True)

    @field_validator("master_key")
    @classmethod
    def _strong(cls, value: SecretStr | None) -> SecretStr | None:
        # The message never quotes the key itself: it is a secret.
        if value is not None and (why := _weakness(value.get_secret_value())):
            raise ValueError(f"master_key is weak: it {why}")
        return value


class RouterSettings(_Section):
    routing_strategy: str = "simple-shuffle"
    num_retries: int = Field(0, ge=0, le=10)


class LitellmSettings(_Section):
    request_timeout: Duration | None = None
    drop_params: bool = False


class GatewayConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    model_list: tuple[ModelEntry, ...]
    litellm_settings: LitellmSettings = LitellmSettings()
    general_settings: GeneralSettings = GeneralSettings()
    router_settings: RouterSettings = RouterSettings()
    environment_variables: dict[str, str] = Field(default_factory=dict)
    callback_settings: dict[str, object] = Field(default_factory=dict)
    guardrails: list[object] = Field(default_factory=list)
    credential_list: list[object] = Field(default_factory=list)

    @field_validator("model_list")
    @classmethod
    def _some_models(cls, value: tuple[ModelEntry, ...]) -> tuple[ModelEntry, ...]:
        if not value:
            raise ValueError("model_list is empty: the gateway would serve no model")
        return value

    @field_validator("environment_variables", mode="before")
    @classmethod
    def _stringify(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): "" if v is None else str(v) for k, v in value.items()}
        return value

    def providers(self) -> tuple[str, ...]:
        """Provider names in the order they first appear in model_list."""
        return tuple(dict.fromkeys(e.litellm_params.provider for e in self.model_list))

    def model_names(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(e.model_name for e in self.model_list))


@dataclass(frozen=True)
class LoadedConfig:
    """A validated config and where it came from."""

    config: GatewayConfig
    path: Path
    sha256: str
    env: Mapping[str, str]

    @property
    def short_hash(self) -> str:
        return self.sha256[:12]

    @property
    def master_key(self) -> str | None:
        key = self.config.general_settings.master_key
        return key.get_secret_value() if key is not None else None


# -- locating problems -----------------------------------------------------------------------


def _position(root: object, loc: Sequence[int | str]) -> tuple[int | None, int | None]:
    """Line and column (1-based) of the deepest node of `loc` present in the YAML tree."""
    node, line, col = root, None, None
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line, col = node.lc.key(part)
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line, col = node.lc.item(part)
            node = node[part]
        else:
            break
    return (line + 1 if line is not None else None, col + 1 if col is not None else None)


def _key_path(loc: Sequence[int | str]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _problems(file: str, root: object, err: ValidationError) -> list[Problem]:
    problems = []
    for item in err.errors(include_url=False, include_input=False):
        # Drop pydantic's union/function tags so the path is the user's key path.
        loc = [p for p in item["loc"] if not (isinstance(p, str) and "[" in p)]
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "missing":
            message = f"required key {loc[-1]!r} is missing" if loc else "required key missing"
            loc_at = loc[:-1]
        elif item["type"] == "extra_forbidden":
            known = TOP_LEVEL_KEYS if len(loc) == 1 else ()
            message = f"unknown key {loc[-1]!r}" + (f"; known: {', '.join(known)}" if known else "")
            loc_at = loc
        else:
            loc_at = loc
        line, col = _position(root, loc_at)
        problems.append(Problem(file, line, col, _key_path(loc), message))
    return problems


def _plain(node: object) -> object:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


_LITELLM_MASTER_ENV = "LITELLM_MASTER_KEY"


def parse_config(text: str, *, file: str, env: Mapping[str, str] | None = None) -> LoadedConfig:
    """Validate config text; raise ConfigError listing every problem found."""
    base_env = dict(os.environ if env is None else env)
    yaml = YAML(typ="rt")
    try:
        root = yaml.load(io.StringIO(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        col = mark.column + 1 if mark is not None else None
        what = " ".join(s for s in (exc.problem, exc.context) if s) or "invalid yaml"
        raise ConfigError([Problem(file, line, col, "", f"yaml error: {what}")]) from exc
    except YAMLError as exc:
        raise ConfigError([Problem(file, None, None, "", f"yaml error: {exc}")]) from exc
    if not isinstance(root, CommentedMap):
        got = "an empty file" if root is None else f"a {type(root).__name__}"
        raise ConfigError([Problem(file, 1, 1, "", f"expected a mapping at top level, got {got}")])
    data = _plain(root)
    assert isinstance(data, dict)
    overlay = data.get("environment_variables")
    if isinstance(overlay, dict):
        base_env.update({str(k): "" if v is None else str(v) for k, v in overlay.items()})
    general = data.get("general_settings")
    if not isinstance(general, dict) or general.get("master_key") is None:
        if _LITELLM_MASTER_ENV in base_env:
            data["general_settings"] = {
                **(general if isinstance(general, dict) else {}),
                "master_key": base_env[_LITELLM_MASTER_ENV],
            }
        else:
            line, col = _position(root, ["general_settings"])
            raise ConfigError(
                [
                    Problem(
                        file,
                        line or 1,
                        col or 1,
                        "general_settings.master_key",
                        "master_key is missing: set general_settings.master_key "
                        f"(or the environment variable {_LITELLM_MASTER_ENV})",
                    )
                ]
            )
    try:
        config = GatewayConfig.model_validate(data, context={"env": base_env})
    except ValidationError as exc:
        raise ConfigError(_problems(file, root, exc)) from exc
    digest = hashlib.sha256(text.encode()).hexdigest()
    return LoadedConfig(config=config, path=Path(file), sha256=digest, env=base_env)


def load_config(path: Path, env: Mapping[str, str] | None = None) -> LoadedConfig:
    """Read and validate the file at `path`."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError([Problem(str(path), None, None, "", "config file not found")]) from exc
    except OSError as exc:
        raise ConfigError([Problem(str(path), None, None, "", f"cannot read: {exc}")]) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            [Problem(str(path), None, None, "", f"not utf-8 text (byte {exc.start})")]
        ) from exc
    loaded = parse_config(text, file=str(path), env=env)
    return LoadedConfig(loaded.config, path, hashlib.sha256(raw).hexdigest(), loaded.env)
