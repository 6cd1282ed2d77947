"""Glance (and, for "create volume from image", Cinder) for the signed-in user.

Glance's image document is flat JSON: its own fields beside the custom properties. The
gateway speaks to the image API through the SDK's image proxy (`conn.image`, a keystoneauth
adapter with the user's token and the catalog's endpoint) with Glance's own JSON and JSON
Patch, so every custom property survives the round trip and each method is one request.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import openstack.exceptions
from openstack.connection import Connection

from portal.cloud import cloud_call
from portal.refs import ProjectRef, Volume

# Fields of Glance's image document that are not custom properties.
CORE_FIELDS = frozenset(
    {
        "id",
        "name",
        "status",
        "visibility",
        "protected",
        "os_hidden",
        "checksum",
        "os_hash_algo",
        "os_hash_value",
        "owner",
        "size",
        "virtual_size",
        "min_ram",
        "min_disk",
        "disk_format",
        "container_format",
        "created_at",
        "updated_at",
        "tags",
        "self",
        "file",
        "schema",
        "direct_url",
        "locations",
        "stores",
    }
)
# Properties the portal edits with their own form fields (not as "custom properties").
FORM_PROPERTIES = frozenset({"description", "architecture"})


def is_reserved(key: str) -> bool:
    """Glance owns os_glance_* and `stores`: shown, never edited."""
    return key.startswith("os_glance") or key == "stores"


PATCH_TYPE = "application/openstack-images-v2.1-json-patch"


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def __len__(self) -> int: ...


@dataclass(frozen=True)
class Image:
    id: str
    name: str
    status: str
    visibility: str
    protected: bool
    owner: str
    disk_format: str
    container_format: str
    size: int | None
    virtual_size: int | None
    min_disk: int
    min_ram: int
    created_at: str
    updated_at: str
    checksum: str
    hash_algo: str
    hash_value: str
    hidden: bool
    tags: tuple[str, ...]
    # every property that is not a core field, description and architecture included
    properties: tuple[tuple[str, str], ...]

    @property
    def description(self) -> str:
        return dict(self.properties).get("description", "")

    @property
    def architecture(self) -> str:
        return dict(self.properties).get("architecture", "")

    @property
    def image_type(self) -> str:
        """Nova marks the images it makes from servers with image_type=snapshot."""
        return "snapshot" if dict(self.properties).get("image_type") == "snapshot" else "image"

    @property
    def custom_properties(self) -> tuple[tuple[str, str], ...]:
        """What the "custom properties" field edits."""
        return tuple(
            (k, v) for k, v in self.properties if k not in FORM_PROPERTIES and not is_reserved(k)
        )

    @property
    def is_busy(self) -> bool:
        """Glance is still working on it: lists poll until it settles."""
        return self.status in {"queued", "saving", "importing", "uploading"}


@dataclass(frozen=True)
class ImageSpec:
    """What the create and edit forms decide about an image (not its data)."""

    name: str
    disk_format: str
    container_format: str
    visibility: str
    protected: bool
    min_disk: int
    min_ram: int
    description: str = ""
    architecture: str = ""
    properties: tuple[tuple[str, str], ...] = ()

    def all_properties(self) -> dict[str, str]:
        props = dict(self.properties)
        for key, value in (("description", self.description), ("architecture", self.architecture)):
            if value:
                props[key] = value
        return props


@dataclass(frozen=True)
class ImageTask:
    id: str
    status: str
    message: str


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def to_image(doc: dict[str, Any]) -> Image:
    return Image(
        id=doc["id"],
        name=doc.get("name") or "",
        status=doc.get("status") or "",
        visibility=doc.get("visibility") or "",
        protected=bool(doc.get("protected")),
        owner=doc.get("owner") or "",
        disk_format=doc.get("disk_format") or "",
        container_format=doc.get("container_format") or "",
        size=doc.get("size"),
        virtual_size=doc.get("virtual_size"),
        min_disk=int(doc.get("min_disk") or 0),
        min_ram=int(doc.get("min_ram") or 0),
        created_at=doc.get("created_at") or "",
        updated_at=doc.get("updated_at") or "",
        checksum=doc.get("checksum") or "",
        hash_algo=doc.get("os_hash_algo") or "",
        hash_value=doc.get("os_hash_value") or "",
        hidden=bool(doc.get("os_hidden")),
        tags=tuple(doc.get("tags") or ()),
        properties=tuple(sorted((k, _text(v)) for k, v in doc.items() if k not in CORE_FIELDS)),
    )


def image_patch(current: Image, spec: ImageSpec) -> list[dict[str, Any]]:
    """The JSON Patch that turns `current` into `spec` (only what changed)."""
    ops: list[dict[str, Any]] = []
    wanted: dict[str, Any] = {
        "name": spec.name,
        "disk_format": spec.disk_format,
        "container_format": spec.container_format,
        "visibility": spec.visibility,
        "protected": spec.protected,
        "min_disk": spec.min_disk,
        "min_ram": spec.min_ram,
    }
    for key, value in wanted.items():
        if getattr(current, key) != value:
            ops.append({"op": "replace", "path": "/" + key, "value": value})
    old, new = dict(current.properties), spec.all_properties()
    for key in sorted(set(old) - set(new)):
        if not is_reserved(key):
            ops.append({"op": "remove", "path": "/" + key})
    for key, value in sorted(new.items()):
        if old.get(key) != value:
            ops.append(
                {"op": "replace" if key in old else "add", "path": "/" + key, "value": value}
            )
    return ops


def _check(response: Any) -> Any:
    openstack.exceptions.raise_from_response(response)
    return response


class ImagesGateway:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def has_service(self, service_type: str) -> bool:
        """From the token's catalog; no API call."""
        return bool(self.conn.has_service(service_type))

    @cloud_call
    def list_images(self, **query: str) -> list[Image]:
        """GET /v2/images, following Glance's `next` links (pages of 200)."""
        images: list[Image] = []
        url: str | None = "/images"
        params: dict[str, Any] | None = {"limit": 200, **query}
        while url:
            body = _check(self.conn.image.get(url, params=params)).json()
            images.extend(to_image(doc) for doc in body.get("images", []))
            url = body.get("next", "").removeprefix("/v2") or None
            params = None  # the next link carries the query
        return images

    @cloud_call
    def get_image(self, image_id: str) -> Image:
        return to_image(_check(self.conn.image.get(f"/images/{image_id}")).json())

    @cloud_call
    def create_image(self, spec: ImageSpec) -> Image:
        """The image record only (status queued); data comes with upload/import."""
        body: dict[str, Any] = {
            "name": spec.name,
            "disk_format": spec.disk_format,
            "container_format": spec.container_format,
            "visibility": spec.visibility,
            "protected": spec.protected,
            "min_disk": spec.min_disk,
            "min_ram": spec.min_ram,
            **spec.all_properties(),
        }
        return to_image(_check(self.conn.image.post("/images", json=body)).json())

    @cloud_call
    def upload_image(self, image_id: str, data: Readable) -> None:
        """PUT /v2/images/{id}/file with a streamed body: `data` is read in small blocks by
        the HTTP client as it sends, so nothing holds the whole file. len(data) becomes the
        Content-Length."""
        _check(
            self.conn.image.put(
                f"/images/{image_id}/file",
                data=data,
                headers={
                    "Content-Type": "application/octet-stream",
                    "X-OpenStack-Image-Size": str(len(data)),
                },
            )
        )

    @cloud_call
    def import_image(self, image_id: str, uri: str) -> None:
        """Glance's interoperable import, web-download method: Glance fetches the URL."""
        _check(
            self.conn.image.post(
                f"/images/{image_id}/import",
                json={"method": {"name": "web-download", "uri": uri}},
            )
        )

    @cloud_call
    def list_image_tasks(self, image_id: str) -> list[ImageTask]:
        """Glance's import tasks of an image, newest first: a failed import's reason."""
        body = _check(self.conn.image.get(f"/images/{image_id}/tasks")).json()
        return [
            ImageTask(t.get("id", ""), t.get("status", ""), t.get("message") or "")
            for t in body.get("tasks", [])
        ]

    @cloud_call
    def get_import_methods(self) -> tuple[str, ...]:
        body = _check(self.conn.image.get("/info/import")).json()
        return tuple(body.get("import-methods", {}).get("value", []))

    @cloud_call
    def update_image(self, image_id: str, patch: list[dict[str, Any]]) -> Image:
        if not patch:
            return self.get_image(image_id)
        response = self.conn.image.patch(
            f"/images/{image_id}", json=patch, headers={"Content-Type": PATCH_TYPE}
        )
        return to_image(_check(response).json())

    @cloud_call
    def delete_image(self, image_id: str) -> None:
        _check(self.conn.image.delete(f"/images/{image_id}"))

    @cloud_call
    def create_volume(self, image_id: str, name: str, size_gb: int) -> Volume:
        volume = self.conn.block_storage.create_volume(name=name, size=size_gb, image_id=image_id)
        return Volume(
            id=volume.id,
            name=volume.name or "",
            size=int(volume.size or 0),
            status=volume.status or "",
        )

    @cloud_call
    def list_projects(self) -> list[ProjectRef]:
        """Admin pages name each image's owner (Keystone's list, one call)."""
        identity: Any = self.conn.identity  # the v3 proxy; the SDK types it as v2 | v3
        return [ProjectRef(p.id, p.name) for p in identity.projects()]


def names_by_id(projects: Iterable[ProjectRef]) -> dict[str, str]:
    return {p.id: p.name for p in projects}
