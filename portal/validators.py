"""Validators for what the portal sends on to OpenStack, shared by every app's forms.

Nova, Neutron, Glance, Cinder and Keystone store names and descriptions in MySQL tables of
charset utf8 (utf8mb3: three bytes a character at most), so text with a character beyond
U+FFFF (an emoji, many CJK extension ideographs) is refused by the database. Neutron and
Glance pass that on as a 500, Keystone as a 500 or a 400 without a reason: the form says so
first, at the field.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

BMP_END = 0xFFFF  # the last character MySQL's utf8 (utf8mb3) can store
# Counts and sizes (quota limits, an image's min_disk and min_ram) are MySQL INT columns in
# Nova, Cinder, Neutron and Glance, and their APIs refuse anything above this.
INT32_MAX = 2**31 - 1


def cloud_text(value: str) -> None:
    """Text the clouds can store: no character beyond the Basic Multilingual Plane."""
    found = next((c for c in value if ord(c) > BMP_END), None)
    if found is not None:
        raise ValidationError(
            _(
                "The cloud cannot store emoji or other characters beyond U+FFFF "
                "(here: %(char)s, U+%(code)X). Remove them and try again."
            ),
            code="cloud_text",
            params={"char": found, "code": ord(found)},
        )
