"""The configuration file: the cache, the audit thresholds and the configured systems.

Found at ``--config FILE``, else ``$THREETRUTH_CONFIG``; without either, threetruth
runs with the defaults and a cache in the user's data directory. Secrets are only
ever written as ``env:VAR`` and read from the environment into ``SecretStr``.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs
from pydantic import SecretStr

from adapters.base import NormaliseContext, StatusMapping
from audit.model import Financial, Fulfillment, Role, SystemDef, ThreetruthError
from audit.settings import AuditSettings

CONFIG_ENV = "THREETRUTH_CONFIG"
SECRET_KEYS = frozenset(
    {"access_token", "client_secret", "refresh_token", "consumer_secret", "token_secret", "token_id",
     "consumer_key", "client_id", "private_key", "password", "api_key"}
)
# Keys whose values name a place or an option, never a secret.
SYSTEM_KEYS = frozenset(
    {"role", "platform", "base_url", "api_version", "marketplace_link", "token_url", "marketplace_ids",
     "account_id", "order_ref_field", "timezone", "statuses", "api", "concurrency", "certificate_id",
     "auth"}
) | SECRET_KEYS


class ConfigError(ThreetruthError):
    title = "Configuration problem"


@dataclass(frozen=True)
class SystemConfig:
    """One ``[systems.NAME]`` table."""

    name: str
    role: Role
    platform: str
    options: Mapping[str, Any] = field(default_factory=dict)
    secrets: Mapping[str, SecretStr] = field(default_factory=dict)
    secret_env: Mapping[str, str] = field(default_factory=dict)  # secret key -> the environment variable it is read from
    status_overrides: Mapping[str, StatusMapping] = field(default_factory=dict)

    @property
    def definition(self) -> SystemDef:
        return SystemDef(self.name, self.role, self.platform)

    def context(self) -> NormaliseContext:
        """What the platform's normaliser needs to read this system's payloads."""
        extra = {key: self.options[key] for key in ("order_ref_field", "marketplace_link") if key in self.options}
        return NormaliseContext(
            system=self.definition,
            timezone=self.options.get("timezone"),
            status_overrides=self.status_overrides,
            **extra,
        )


@dataclass(frozen=True)
class Config:
    cache_path: Path
    audit: AuditSettings
    systems: Mapping[str, SystemConfig]
    source: Path | None = None  # the file it was read from, None for defaults


def default_cache_path() -> Path:
    return Path(platformdirs.user_data_dir("threetruth", appauthor=False)) / "threetruth.db"


def load_config(path: str | Path | None = None, environ: Mapping[str, str] | None = None) -> Config:
    """Read the config from ``path``, else ``$THREETRUTH_CONFIG``, else the defaults."""
    environ = os.environ if environ is None else environ
    chosen = path or environ.get(CONFIG_ENV) or None
    if chosen is None:
        return Config(cache_path=default_cache_path(), audit=AuditSettings(), systems={})
    file = Path(chosen).expanduser()
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{file}: no such config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML ({exc})") from None
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read it ({exc.strerror})") from None
    return parse_config(data, file, environ)


def parse_config(data: Mapping[str, Any], file: Path | None, environ: Mapping[str, str]) -> Config:
    where = str(file) if file else "config"
    unknown = sorted(set(data) - {"cache", "audit", "topology", "systems"})
    if unknown:
        raise ConfigError(f"{where}: unknown table [{unknown[0]}]; known tables are [cache], [audit], [topology], [systems.NAME]")
    cache_path = default_cache_path()
    if "path" in data.get("cache", {}):
        cache_path = Path(str(data["cache"]["path"])).expanduser()
        if not cache_path.is_absolute() and file is not None:
            cache_path = (file.parent / cache_path).resolve()  # relative to the config file, not to the shell's folder
    try:
        audit = AuditSettings.from_mapping(data.get("audit"), data.get("topology"))
    except ThreetruthError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    systems = {name: parse_system(name, table, where, environ) for name, table in data.get("systems", {}).items()}
    return Config(cache_path=cache_path, audit=audit, systems=systems, source=file)


def parse_system(name: str, table: Mapping[str, Any], where: str, environ: Mapping[str, str]) -> SystemConfig:
    prefix = f"{where}: [systems.{name}]"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{prefix} must be a table")
    unknown = sorted(set(table) - SYSTEM_KEYS)
    if unknown:
        raise ConfigError(f"{prefix}: unknown key {unknown[0]!r}")
    try:
        role = Role(table.get("role", ""))
    except ValueError:
        raise ConfigError(f"{prefix}: role must be one of {', '.join(r.value for r in Role)}") from None
    platform = table.get("platform")
    if not platform:
        raise ConfigError(f"{prefix}: platform is required (e.g. shopify, amazon, netsuite)")
    if "base_url" in table:
        _check_url(str(table["base_url"]), f"{prefix}: base_url")
    if "token_url" in table:
        _check_url(str(table["token_url"]), f"{prefix}: token_url")
    secrets = {key: _secret(str(table[key]), f"{prefix}: {key}", environ) for key in SECRET_KEYS & set(table)}
    secret_env = {key: str(table[key]).removeprefix("env:") for key in secrets}
    options = {key: value for key, value in table.items() if key not in SECRET_KEYS and key != "statuses"}
    overrides = {native: _mapping(native, value, prefix) for native, value in table.get("statuses", {}).items()}
    return SystemConfig(name, role, str(platform), options, secrets, secret_env, overrides)


def _secret(value: str, where: str, environ: Mapping[str, str]) -> SecretStr:
    if not value.startswith("env:"):
        # Never echo the value: it is probably the secret itself.
        raise ConfigError(f"{where}: write secrets as env:VARIABLE and export the value; a literal secret is refused")
    variable = value.removeprefix("env:")
    # A missing variable is not an error here: it only matters when the system is fetched.
    return SecretStr(environ.get(variable, ""))


def _check_url(url: str, where: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname and _is_loopback(parts.hostname):
        return
    raise ConfigError(f"{where} {url!r} must be https:// (plain http only for 127.0.0.1, ::1 or localhost)")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _mapping(native: str, value: Any, prefix: str) -> StatusMapping:
    """``"Pending Review" = {fulfillment = "on_hold", financial = "pending"}`` or ``= "on_hold/pending"``."""
    if isinstance(value, str):
        fulfillment_text, _, financial_text = value.partition("/")
        value = {"fulfillment": fulfillment_text or None, "financial": financial_text or None}
    if not isinstance(value, Mapping):
        raise ConfigError(f"{prefix}.statuses: {native!r} must be a table or \"fulfillment/financial\"")
    try:
        return StatusMapping(
            fulfillment=Fulfillment(value["fulfillment"]) if value.get("fulfillment") else None,
            financial=Financial(value["financial"]) if value.get("financial") else None,
        )
    except ValueError as exc:
        raise ConfigError(f"{prefix}.statuses: {native!r}: {exc}") from None
