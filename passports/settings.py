"""The settings the passport services take as an argument, read from the app's config at
the boundary (pages, API, CLI): the services themselves never look at ``current_app``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask, current_app

KEY_CACHE = "passport_public_keys"  # the app's verification keys, by kid (app.extensions)
LIST_CACHE = "passport_status_lists"  # the app's last signed status lists, by purpose
TRUST_CACHE = "passport_trust_list"  # the app's parsed trust list and anchor (app.extensions)
SETTINGS_CACHE = "passport_settings"  # (CONFIG_KEYS' values, the settings built from them)

# every config key ``from_config`` reads (tests/passports/test_settings.py holds it to that):
# the app's settings are built again only when one of these changed
CONFIG_KEYS = (
    "ENVIRONMENT",
    "DEVELOPMENT_TRUST_ANCHOR",
    "KEY_ENCRYPTION_SECRET",
    "PUBLIC_BASE_URL",
    "ISSUER_URL",
    "ISSUER_NAME_KK",
    "ISSUER_NAME_RU",
    "ISSUER_NAME_EN",
    "PASSPORT_VALIDITY_YEARS",
    "STATUS_LIST_MAX_AGE_HOURS",
    "ISSUER_ID",
    "TRUST_ANCHOR_JWK",
)


@dataclass(frozen=True)
class PassportSettings:
    """What issuing, signing and verifying passports depend on.

    ``key_cache`` is the app's per-process cache of verification keys (kid → public key);
    the keys service fills and reads it in place. ``list_cache`` is the app's per-process
    cache of the last signed status list of each purpose (the status service's).
    ``trust_cache`` holds the parsed trust list and anchor (services/trust_lists.py).
    """

    key_encryption_secret: str
    public_base_url: str
    issuer_url: str  # ISSUER_URL, else PUBLIC_BASE_URL; no trailing slash
    issuer_name: Mapping[str, str]  # kk, ru, en
    validity_years: int  # 0: passports never expire
    status_list_max_age: timedelta
    issuer_id: str = ""
    trust_anchor: str = ""  # TRUST_ANCHOR_JWK: a path or the JWK JSON
    # the development anchor's private key file (development only; None otherwise)
    development_anchor: Path | None = None
    production: bool = False
    key_cache: dict[str, ec.EllipticCurvePublicKey] = field(
        default_factory=dict, compare=False, repr=False
    )
    list_cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    trust_cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_config(
        cls,
        config: Mapping[str, Any],
        key_cache: dict | None = None,
        list_cache: dict | None = None,
        trust_cache: dict | None = None,
    ) -> PassportSettings:
        development = config.get("ENVIRONMENT") == "development"
        anchor_file = config.get("DEVELOPMENT_TRUST_ANCHOR") or ""
        return cls(
            key_encryption_secret=config["KEY_ENCRYPTION_SECRET"],
            public_base_url=config["PUBLIC_BASE_URL"],
            issuer_url=(config["ISSUER_URL"] or config["PUBLIC_BASE_URL"]).rstrip("/"),
            issuer_name={
                "kk": config["ISSUER_NAME_KK"],
                "ru": config["ISSUER_NAME_RU"],
                "en": config["ISSUER_NAME_EN"],
            },
            validity_years=int(config["PASSPORT_VALIDITY_YEARS"]),
            status_list_max_age=timedelta(hours=config["STATUS_LIST_MAX_AGE_HOURS"]),
            issuer_id=config.get("ISSUER_ID") or "",
            trust_anchor=config.get("TRUST_ANCHOR_JWK") or "",
            development_anchor=Path(anchor_file) if development and anchor_file else None,
            production=config.get("ENVIRONMENT") == "production",
            key_cache=key_cache if key_cache is not None else {},
            list_cache=list_cache if list_cache is not None else {},
            trust_cache=trust_cache if trust_cache is not None else {},
        )

    @classmethod
    def for_app(cls, app: Flask) -> PassportSettings:
        """The settings of ``app`` now, sharing its key, status-list and trust-list caches.

        Built once and kept while the config values they come from stay the same (every
        verify API call asks): the settings are frozen, their caches shared anyway.
        """
        config, extensions = app.config, app.extensions
        values = tuple(config.get(key) for key in CONFIG_KEYS)
        kept = extensions.get(SETTINGS_CACHE)
        if kept is not None and kept[0] == values:
            return kept[1]
        settings = cls.from_config(
            config,
            extensions.setdefault(KEY_CACHE, {}),
            extensions.setdefault(LIST_CACHE, {}),
            extensions.setdefault(TRUST_CACHE, {}),
        )
        extensions[SETTINGS_CACHE] = (values, settings)
        return settings


def current_settings() -> PassportSettings:
    """The settings of the app handling this request or command (call at the boundary)."""
    return PassportSettings.for_app(current_app)
