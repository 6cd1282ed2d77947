"""Sign-in throttle: failed sign-ins counted per user and per client address in the cache.

After STACKDESK_SIGNIN_USER_FAILURES failures for one user (cloud, domain, user name or
application credential ID) or STACKDESK_SIGNIN_ADDRESS_FAILURES from one address within
STACKDESK_SIGNIN_WINDOW seconds, that user or address is refused without asking Keystone for
STACKDESK_SIGNIN_LOCKOUT seconds, doubled with every further failure (at most an hour). A
successful sign-in clears the user's count; the address's count only runs out, so one good
account does not reopen the door for guessing others from the same address.

Counts are cache.incr on Redis, atomic across gunicorn workers. Requests already past the
check when the limit is reached still reach Keystone, so a parallel burst gets at most its
own width beyond the limit, once per lockout.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

# Changed per test (conftest.py) so that counts from one test never lock out the next.
NAMESPACE = "signin-throttle"
MAX_LOCKOUT = 3600


@dataclass(frozen=True)
class Subject:
    """One thing failures are counted against."""

    key: str
    limit: int


def _digest(*parts: str) -> str:
    # Hashed: a cache key must be short and printable, and user names are neither always.
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:32]


def account(cloud_key: str, *names: str) -> Subject:
    """A user (domain and user name) or an application credential (its ID) on one cloud."""
    # Lower-cased: Keystone's SQL backend usually matches names without regard to case, and
    # counting "Alice" and "alice" apart would double the guesses.
    key = _digest("account", cloud_key, *(n.lower() for n in names))
    return Subject(key, settings.STACKDESK_SIGNIN_USER_FAILURES)


def address(request: HttpRequest) -> Subject:
    key = _digest("address", client_address(request))
    return Subject(key, settings.STACKDESK_SIGNIN_ADDRESS_FAILURES)


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR; behind proxies named in STACKDESK_TRUSTED_PROXIES, the last
    X-Forwarded-For entry that no trusted proxy added (entries left of it are the client's
    own say and could be anything)."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    trusted = settings.STACKDESK_TRUSTED_PROXIES
    if not trusted or not _is_trusted(remote, trusted):
        return remote
    forwarded = [a.strip() for a in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")]
    for hop in reversed([a for a in forwarded if a]):
        if not _is_trusted(hop, trusted):
            return hop
    return remote


def _is_trusted(addr: str, trusted: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(net, strict=False) for net in trusted)


def _count_key(subject: Subject) -> str:
    return f"{NAMESPACE}:count:{subject.key}"


def _lock_key(subject: Subject) -> str:
    return f"{NAMESPACE}:lock:{subject.key}"


def wait_seconds(*subjects: Subject) -> int:
    """Seconds until a sign-in for all these subjects may be tried again; 0 when it may now."""
    now = time.time()
    until = [cache.get(_lock_key(s)) or 0.0 for s in subjects]
    return max(0, *(math.ceil(u - now) for u in until))


def record_failure(*subjects: Subject) -> None:
    window = settings.STACKDESK_SIGNIN_WINDOW
    for subject in subjects:
        key = _count_key(subject)
        cache.add(key, 0, window)
        try:
            failures = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, window)
            failures = 1
        if failures < subject.limit:
            continue
        doublings = min(failures - subject.limit, 12)
        lockout = min(settings.STACKDESK_SIGNIN_LOCKOUT * 2**doublings, MAX_LOCKOUT)
        cache.set(_lock_key(subject), time.time() + lockout, lockout)
        # Keep the count past the lockout, so the next failure after it locks for longer.
        cache.touch(key, lockout + window)


def record_success(subject: Subject) -> None:
    cache.delete_many([_count_key(subject), _lock_key(subject)])
