"""Independent cloud calls of one page run at once; the page waits for the slowest only."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, overload

A = TypeVar("A")
B = TypeVar("B")
C = TypeVar("C")
D = TypeVar("D")
E = TypeVar("E")


@overload
def concurrently(a: Callable[[], A], b: Callable[[], B], /) -> tuple[A, B]: ...
@overload
def concurrently(
    a: Callable[[], A], b: Callable[[], B], c: Callable[[], C], /
) -> tuple[A, B, C]: ...
@overload
def concurrently(
    a: Callable[[], A], b: Callable[[], B], c: Callable[[], C], d: Callable[[], D], /
) -> tuple[A, B, C, D]: ...
@overload
def concurrently(
    a: Callable[[], A],
    b: Callable[[], B],
    c: Callable[[], C],
    d: Callable[[], D],
    e: Callable[[], E],
    /,
) -> tuple[A, B, C, D, E]: ...
def concurrently(*calls: Callable[[], Any]) -> tuple[Any, ...]:
    """Run the calls in threads and return their results in order; the first error is raised."""
    with ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="cloud") as pool:
        futures = [pool.submit(call) for call in calls]
        return tuple(f.result() for f in futures)
