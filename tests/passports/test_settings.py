"""The passport settings an app hands its services (passports/settings.py)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from passports.settings import CONFIG_KEYS, PassportSettings


class ReadRecorder(Mapping):
    """A config that notes every key read from it."""

    def __init__(self, config: Mapping) -> None:
        self.config = config
        self.read: set[str] = set()

    def __getitem__(self, key: str):
        self.read.add(key)
        return self.config[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.config)

    def __len__(self) -> int:
        return len(self.config)


def test_the_settings_read_only_the_keys_their_cache_watches(app):
    # for_app keeps the settings while CONFIG_KEYS' values stay the same: a key read
    # beside them would go stale unnoticed
    recorder = ReadRecorder({**app.config, "ENVIRONMENT": "development"})
    PassportSettings.from_config(recorder)
    assert recorder.read <= set(CONFIG_KEYS)
    assert "PUBLIC_BASE_URL" in recorder.read


def test_the_app_settings_follow_a_changed_config(app, monkeypatch):
    first = PassportSettings.for_app(app)
    assert PassportSettings.for_app(app) is first  # built once while nothing changed
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://elsewhere.example.kz")
    changed = PassportSettings.for_app(app)
    assert changed.public_base_url == "https://elsewhere.example.kz"
    assert changed.key_cache is first.key_cache  # the caches stay the app's own
    monkeypatch.setitem(app.config, "ISSUER_NAME_KK", "Басқа ұйым")
    assert PassportSettings.for_app(app).issuer_name["kk"] == "Басқа ұйым"
