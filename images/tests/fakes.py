"""In-memory stand-in for ImagesGateway: Glance's image documents in a dict, with Glance's
rules where the portal depends on them (format inspection on upload, protected images
cannot be deleted, web-download imports that succeed or fail)."""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any

from images.gateway import (
    Image,
    ImagesGateway,
    ImageSpec,
    ImageTask,
    Readable,
    to_image,
)
from portal.errors import CloudError, NotFound, Rejected
from portal.refs import ProjectRef, Volume

PROJECT = "p-demo"


def image_doc(name: str, **fields: Any) -> dict[str, Any]:
    """A Glance image document, active and private to the demo project unless told."""
    doc: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "name": name,
        "status": "active",
        "visibility": "private",
        "protected": False,
        "owner": PROJECT,
        "disk_format": "qcow2",
        "container_format": "bare",
        "size": 1024,
        "virtual_size": 1024**3,
        "min_disk": 0,
        "min_ram": 0,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
        "checksum": "",
        "os_hash_algo": "",
        "os_hash_value": "",
        "os_hidden": False,
        "tags": [],
    }
    doc.update(fields)
    return doc


@dataclass
class FakeImagesGateway(ImagesGateway):
    images: dict[str, dict[str, Any]] = field(default_factory=dict)
    volumes: list[Volume] = field(default_factory=list)
    projects: list[ProjectRef] = field(
        default_factory=lambda: [ProjectRef(PROJECT, "demo"), ProjectRef("p-study1", "study1")]
    )
    services: set[str] = field(default_factory=lambda: {"image", "block-storage"})
    import_methods: tuple[str, ...] = ("glance-direct", "web-download")
    tasks: dict[str, list[ImageTask]] = field(default_factory=dict)
    # method name -> error it raises (a refusal or an outage the test wants)
    failures: dict[str, CloudError] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    largest_read: int = 0  # the biggest block upload_image was handed
    # Glance going away mid-stream: upload_image raises this error once it has read this many
    # bytes (once; the next upload goes through).
    fail_after: tuple[int, CloudError] | None = None

    def add(self, name: str, **fields: Any) -> Image:
        doc = image_doc(name, **fields)
        self.images[doc["id"]] = doc
        return to_image(doc)

    def _call(self, name: str) -> None:
        self.calls.append(name)
        if name in self.failures:
            raise self.failures[name]

    def _doc(self, image_id: str) -> dict[str, Any]:
        if image_id not in self.images:
            raise NotFound(f"404 Not Found: No image found with ID {image_id}")
        return self.images[image_id]

    def has_service(self, service_type: str) -> bool:
        return service_type in self.services

    def list_images(self, **query: str) -> list[Image]:
        self._call("list_images")
        return [to_image(doc) for doc in self.images.values()]

    def get_image(self, image_id: str) -> Image:
        self._call("get_image")
        return to_image(self._doc(image_id))

    def create_image(self, spec: ImageSpec) -> Image:
        self._call("create_image")
        doc = image_doc(
            spec.name,
            status="queued",
            size=None,
            virtual_size=None,
            disk_format=spec.disk_format,
            container_format=spec.container_format,
            visibility=spec.visibility,
            protected=spec.protected,
            min_disk=spec.min_disk,
            min_ram=spec.min_ram,
            **spec.all_properties(),
        )
        self.images[doc["id"]] = doc
        return to_image(doc)

    def upload_image(self, image_id: str, data: Readable) -> None:
        self._call("upload_image")
        doc = self._doc(image_id)
        doc["status"] = "saving"
        digest, size, head = hashlib.md5(usedforsecurity=False), 0, b""
        while block := data.read(64 * 1024):
            self.largest_read = max(self.largest_read, len(block))
            digest.update(block)
            size += len(block)
            head = head or block[:4]
            if self.fail_after and size >= self.fail_after[0]:
                error, self.fail_after = self.fail_after[1], None
                doc["status"] = "queued"
                raise error
        if size != len(data):
            doc["status"] = "queued"
            raise Rejected("400 Bad Request: the body ended early", 400)
        if doc["disk_format"] == "qcow2" and head != b"QFI\xfb":
            doc["status"] = "queued"  # as Glance does: the image goes back to queued
            raise Rejected(
                "415 Unsupported Media Type: Image disk_format qcow2 does not match "
                "stream data raw",
                415,
            )
        doc.update(status="active", size=size, checksum=digest.hexdigest())

    def import_image(self, image_id: str, uri: str) -> None:
        self._call("import_image")
        doc = self._doc(image_id)
        if "missing" in uri:
            doc.update(status="queued", os_glance_failed_import="fs")
            self.tasks[image_id] = [
                ImageTask("t1", "failure", f"404 Client Error: Not Found for url: {uri}")
            ]
        else:
            doc.update(status="active", size=4096, web_download_uri=uri)

    def list_image_tasks(self, image_id: str) -> list[ImageTask]:
        self._call("list_image_tasks")
        return self.tasks.get(image_id, [])

    def get_import_methods(self) -> tuple[str, ...]:
        self._call("get_import_methods")
        return self.import_methods

    def update_image(self, image_id: str, patch: list[dict[str, Any]]) -> Image:
        self._call("update_image")
        doc = self._doc(image_id)
        for op in patch:
            key = op["path"].lstrip("/")
            if op["op"] == "remove":
                doc.pop(key)
            else:
                doc[key] = op["value"]
        return to_image(doc)

    def delete_image(self, image_id: str) -> None:
        self._call("delete_image")
        doc = self._doc(image_id)
        if doc["protected"]:
            raise Rejected(
                f"403 Forbidden: Image {image_id} is protected and cannot be deleted.", 403
            )
        del self.images[image_id]

    def create_volume(self, image_id: str, name: str, size_gb: int) -> Volume:
        self._call("create_volume")
        self._doc(image_id)
        volume = Volume(id=str(uuid.uuid4()), name=name, size=size_gb, status="creating")
        self.volumes.append(volume)
        return volume

    def list_projects(self) -> list[ProjectRef]:
        self._call("list_projects")
        return list(self.projects)
