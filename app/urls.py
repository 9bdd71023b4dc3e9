"""Where the app may send a browser after an action: only back into itself."""

from __future__ import annotations

from urllib.parse import urlsplit


def safe_local_target(target: str | None) -> str | None:
    """Return ``target`` when it is a path on this site, else None.

    Browsers ignore tabs and newlines in URLs and treat ``\\`` like ``/``, so
    ``/\\tevil.example`` would leave the site: refuse control characters,
    backslashes, schemes and hosts.
    """
    if not target or any(ord(ch) < 0x21 or ch == "\\" for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
