"""Sealing credentials at rest: Keystone tokens in sessions and on operation rows are
Fernet-encrypted with CREDENTIAL_KEY (from the environment or the state folder)."""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


def _fernet() -> Fernet:
    return Fernet(settings.CREDENTIAL_KEY.encode())


def seal(data: dict[str, Any]) -> str:
    return _fernet().encrypt(json.dumps(data).encode()).decode()


def unseal(sealed: str) -> dict[str, Any] | None:
    """The sealed data, or None when it cannot be opened (key rotated, tampered, empty)."""
    if not sealed:
        return None
    try:
        data: dict[str, Any] = json.loads(_fernet().decrypt(sealed.encode()))
    except (InvalidToken, ValueError):
        return None
    return data
