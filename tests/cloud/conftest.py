"""Fixtures of the cloud tests that need more than tests/conftest.py gives every layer."""

from tests.cloud.ansible_kit import collections_path
from tests.cloud.as_code import as_code

# Fixtures: pytest finds them here for every cloud test.
__all__ = ["as_code", "collections_path"]
