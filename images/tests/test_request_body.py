"""A chunk's body taken straight from gunicorn's socket: gunicorn's own body reader over a real
socket pair, read as the portal's server leaves it (part of the body already buffered), and
what comes after the body on a kept-alive connection still where gunicorn expects it."""

from __future__ import annotations

import io
import os
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from gunicorn.http.body import Body, LengthReader  # type: ignore[import-untyped]
from gunicorn.http.unreader import SocketUnreader  # type: ignore[import-untyped]

from images.uploads import SocketBody, StreamBody

PAYLOAD = os.urandom(3 * 1024 * 1024 + 17)
NEXT_REQUEST = b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n"


@pytest.fixture
def connection() -> Iterator[tuple[socket.socket, Body, SocketUnreader]]:
    """A request whose headers gunicorn has parsed: 5000 bytes of its body came with them
    (buffered in the unreader), the rest, and then the next request, are on the socket."""
    ours, client = socket.socketpair()
    ours.settimeout(5)  # a read past what was sent fails the test instead of hanging it
    sender = threading.Thread(target=client.sendall, args=(PAYLOAD[5000:] + NEXT_REQUEST,))
    sender.start()
    unreader = SocketUnreader(ours)
    unreader.unread(PAYLOAD[:5000])
    yield ours, Body(LengthReader(unreader, len(PAYLOAD))), unreader
    sender.join()
    ours.close()
    client.close()


def read_all(body: SocketBody | StreamBody, block: int = 256 * 1024) -> bytes:
    out, buffer = bytearray(), memoryview(bytearray(block))
    while n := body.readinto(buffer):
        out += buffer[:n]
    return bytes(out)


def test_the_rest_of_the_body_comes_from_the_socket(connection: Any) -> None:
    sock, body, unreader = connection
    head = body.read(64 * 1024)  # the view looks at the first bytes through the request
    taken = SocketBody.of({"gunicorn.socket": sock, "wsgi.input": body})
    assert taken is not None
    assert head + read_all(taken) == PAYLOAD
    # gunicorn drains nothing more and finds the next request where it starts.
    assert body.read(1024) == b""
    assert unreader.read(len(NEXT_REQUEST)) == NEXT_REQUEST


def test_what_is_left_unread_is_drained_by_gunicorn(connection: Any) -> None:
    sock, body, unreader = connection
    taken = SocketBody.of({"gunicorn.socket": sock, "wsgi.input": body})
    assert taken is not None
    buffer = memoryview(bytearray(1024 * 1024))
    first = bytes(buffer[: taken.readinto(buffer)])
    second = bytes(buffer[: taken.readinto(buffer)])
    rest = body.read()  # a refused chunk: gunicorn reads the body to its end as usual
    assert first + second + rest == PAYLOAD
    assert unreader.read(len(NEXT_REQUEST)) == NEXT_REQUEST


def test_other_servers_are_read_through_their_input() -> None:
    assert SocketBody.of({"wsgi.input": io.BytesIO(PAYLOAD)}) is None
    assert read_all(StreamBody(io.BytesIO(PAYLOAD))) == PAYLOAD
