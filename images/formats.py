"""Glance's disk and container formats, and a look at a file's first bytes to tell whether it
is what the user says it is (Glance 33 inspects uploads the same way and refuses a mismatch
with 415 after the whole upload; checking the first chunk tells the user at once)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

DISK_FORMATS = [
    ("qcow2", "QCOW2"),
    ("raw", "RAW"),
    ("vmdk", "VMDK"),
    ("vdi", "VDI"),
    ("vhd", "VHD"),
    ("vhdx", "VHDX"),
    ("iso", "ISO"),
    ("ploop", "PLOOP"),
    ("aki", "AKI"),
    ("ari", "ARI"),
    ("ami", "AMI"),
]
CONTAINER_FORMATS = [
    ("bare", _("Bare (no container)")),
    ("ovf", "OVF"),
    ("ova", "OVA"),
    ("docker", "Docker"),
    ("compressed", _("Compressed")),
    ("aki", "AKI"),
    ("ari", "ARI"),
    ("ami", "AMI"),
]
ARCHITECTURES = [
    ("", _("Not set")),
    ("x86_64", "x86_64"),
    ("aarch64", "aarch64"),
    ("i686", "i686"),
    ("ppc64le", "ppc64le"),
    ("s390x", "s390x"),
    ("riscv64", "riscv64"),
]
LABELS = dict(DISK_FORMATS)

# How many bytes sniff() wants: ISO 9660 puts its signature at 0x8001.
HEAD_BYTES = 64 * 1024
# Formats whose header is always at the start of the file: the file must show it.
SELF_DESCRIBING = {"qcow2", "vmdk", "vdi", "vhdx", "iso"}


def sniff(head: bytes) -> str | None:
    """The disk format the first bytes show, or None (raw data, or a format with no header)."""
    if head.startswith(b"QFI\xfb"):
        return "qcow2"
    if head.startswith(b"KDMV") or head.startswith(b"# Disk DescriptorFile"):
        return "vmdk"
    if head.startswith(b"vhdxfile"):
        return "vhdx"
    if head.startswith(b"conectix"):
        return "vhd"  # a dynamic VHD repeats its footer at the start
    if head[64:68] == b"\x7f\x10\xda\xbe":
        return "vdi"
    if head[0x8001:0x8006] == b"CD001":
        return "iso"
    return None


def mismatch(disk_format: str, head: bytes) -> str | None:
    """Why a file cannot be `disk_format`, in the user's words, or None when it may be."""
    found = sniff(head)
    if disk_format in SELF_DESCRIBING and found != disk_format:
        if found is None:
            return str(
                _("The file is not a %(chosen)s image (it has no %(chosen)s header).")
                % {"chosen": LABELS[disk_format]}
            )
    elif disk_format != "raw" or found is None:
        return None
    if found == disk_format:
        return None
    return str(
        _("The file is a %(found)s image, not %(chosen)s: choose %(found)s as the disk format.")
        % {"found": LABELS[found], "chosen": LABELS[disk_format]}
    )
