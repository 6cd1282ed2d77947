"""Waiting on the cloud in integration tests."""

from __future__ import annotations

import time
from typing import Any


def wait_for(check: Any, timeout: float, what: str = "") -> Any:
    """Call `check` every half second until it returns something true; return that."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")
