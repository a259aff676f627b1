"""The key that signs session cookies: refused when it is public, empty or short.

Whoever knows the key can sign a cookie for any user, the first admin included. A key from a
published example (the compose file's old default, the README's) or one too short to resist
guessing is therefore refused at start-up, unless the app runs on the embedded default: a
SQLite file with the server bound to loopback, where only this machine can reach it. Unset,
a key is generated once into var/secret_key, created 0600 (see files.py).
"""

from __future__ import annotations

import ipaddress
import secrets
from pathlib import Path

from imvo_workflow.domain.errors import InvalidInput
from imvo_workflow.files import write_private_once
from imvo_workflow.settings import Settings

#: Keys that have been published (docs, examples, the old compose default): never secret.
KNOWN_KEYS = frozenset(
    {
        "change-me-in-production",
        "change-me",
        "changeme",
        "secret",
        "secret-key",
        "test-secret",
        "drill-test-secret",
        "imvo",
        "imvo-workflow",
    }
)
#: The shortest key accepted off the embedded default (bytes of its UTF-8 text).
MIN_KEY_BYTES = 32
#: Where a generated key is kept (relative to the working directory, as var/imvo.db is).
KEY_FILE = Path("var/secret_key")
#: What `README` tells an operator to run for a key.
MAKE_ONE = 'python -c "import secrets; print(secrets.token_urlsafe(48))"'


class InsecureSecretKey(InvalidInput):
    """IMVO_SECRET_KEY would let others forge sessions; the message says how to make one."""


def is_loopback(host: str | None) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host is None:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def weakness(key: str) -> str | None:
    """Why `key` is not fit to sign sessions, or None."""
    if not key.strip():
        return "is leeg"
    if key.strip().lower() in KNOWN_KEYS:
        return "is een gepubliceerd voorbeeld dat iedereen kent"
    if len(key.encode("utf-8")) < MIN_KEY_BYTES:
        return f"is korter dan {MIN_KEY_BYTES} bytes"
    return None


def embedded_default(settings: Settings, host: str | None) -> bool:
    """The app on a SQLite file, reachable from this machine only."""
    return settings.database_url.startswith("sqlite") and is_loopback(host)


def secret_key(settings: Settings, *, host: str | None) -> str:
    """The session key for an app served on `host` (None: not known, so assumed reachable).

    Raises InsecureSecretKey for an empty, published or short key, unless on the embedded
    default. An unset key is generated once, into a file only this user can read.
    """
    key = settings.secret_key
    if key is not None and not key.strip() and embedded_default(settings, host):
        key = None  # an empty setting on the embedded default: as if unset
    if key is None:
        KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        write_private_once(KEY_FILE, secrets.token_urlsafe(48))
        key = KEY_FILE.read_text(encoding="utf-8").strip()
        where = str(KEY_FILE)
    else:
        where = "IMVO_SECRET_KEY"
    problem = weakness(key)
    if problem is not None and not embedded_default(settings, host):
        raise InsecureSecretKey(
            f"{where} {problem}: daarmee kan iedereen een sessie (ook die van een beheerder) "
            f"vervalsen. Maak een sleutel met `{MAKE_ONE}` en zet die in IMVO_SECRET_KEY."
        )
    return key
