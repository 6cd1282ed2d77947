"""The image forms: create (from a file or a URL), edit, create a volume, bulk delete."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

from images.formats import ARCHITECTURES, CONTAINER_FORMATS, DISK_FORMATS
from images.gateway import CORE_FIELDS, FORM_PROPERTIES, Image, ImageSpec, is_reserved
from images.uploads import max_upload_bytes
from portal.forms import PortalForm
from portal.validators import INT32_MAX, cloud_text

VISIBILITIES = [
    ("private", _("Private: this project only")),
    ("shared", _("Shared: this project and the projects it is shared with")),
    ("community", _("Community: any project may use it, not listed by default")),
    ("public", _("Public: every project (administrators only)")),
]
# Glance allows 128 properties an image by default (image_property_quota), each value at most
# 255 characters: 128 lines of key=value fit in this.
PROPERTIES_MAX = 65536
PROPERTY_LINE = re.compile(r"^\s*([A-Za-z0-9_.:-]{1,255})\s*=\s*(.*?)\s*$")


def parse_properties(text: str) -> tuple[tuple[str, str], ...]:
    """`key=value` per line, into sorted pairs; refuses what Glance would refuse."""
    found: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = PROPERTY_LINE.match(line)
        if not match:
            raise ValidationError(
                _("Line %(n)d is not of the form key=value."), params={"n": number}
            )
        key, value = match.groups()
        if key in CORE_FIELDS or key in FORM_PROPERTIES or is_reserved(key):
            raise ValidationError(
                _("Line %(n)d: “%(key)s” is not a custom property; use its own field."),
                params={"n": number, "key": key},
            )
        if len(value) > 255:
            raise ValidationError(
                _("Line %(n)d: a value may have at most 255 characters."), params={"n": number}
            )
        found[key] = value
    return tuple(sorted(found.items()))


def format_properties(pairs: tuple[tuple[str, str], ...]) -> str:
    return "\n".join(f"{k}={v}" for k, v in pairs)


class ImageFieldsForm(PortalForm):
    """What an image is, whatever its data: shared by create and edit."""

    name = forms.CharField(label=_("Name"), max_length=255, validators=[cloud_text])
    description = forms.CharField(
        label=_("Description"),
        max_length=255,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        validators=[cloud_text],
    )
    disk_format = forms.ChoiceField(label=_("Disk format"), choices=DISK_FORMATS, initial="qcow2")
    container_format = forms.ChoiceField(
        label=_("Container format"), choices=CONTAINER_FORMATS, initial="bare"
    )
    architecture = forms.ChoiceField(label=_("Architecture"), choices=ARCHITECTURES, required=False)
    # Glance keeps both as a MySQL INT (and its API schema says so): at most 2**31 - 1.
    min_disk = forms.IntegerField(
        label=_("Minimum disk (GB)"), min_value=0, max_value=INT32_MAX, initial=0
    )
    min_ram = forms.IntegerField(
        label=_("Minimum RAM (MB)"), min_value=0, max_value=INT32_MAX, initial=0
    )
    visibility = forms.ChoiceField(label=_("Visibility"), choices=VISIBILITIES, initial="private")
    protected = forms.BooleanField(
        label=_("Protected (cannot be deleted until unprotected)"), required=False
    )
    properties = forms.CharField(
        label=_("Custom properties"),
        required=False,
        max_length=PROPERTIES_MAX,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "hw_disk_bus=virtio"}),
        help_text=_("One key=value per line, e.g. os_distro=ubuntu."),
        validators=[cloud_text],
    )

    def __init__(self, *args: Any, is_admin: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_admin = is_admin

    def clean_visibility(self) -> str:
        value: str = self.cleaned_data["visibility"]
        if value == "public" and not self.is_admin:
            raise ValidationError(
                _("Only administrators can make an image public. Choose shared or community.")
            )
        return value

    def clean_properties(self) -> tuple[tuple[str, str], ...]:
        return parse_properties(self.cleaned_data.get("properties", ""))

    def spec(self) -> ImageSpec:
        data = self.cleaned_data
        return ImageSpec(
            name=data["name"],
            disk_format=data["disk_format"],
            container_format=data["container_format"],
            visibility=data["visibility"],
            protected=data["protected"],
            min_disk=data["min_disk"],
            min_ram=data["min_ram"],
            description=data["description"],
            architecture=data["architecture"],
            properties=data["properties"],
        )


class CreateImageForm(ImageFieldsForm):
    SOURCE_FILE, SOURCE_URL = "file", "url"

    source = forms.ChoiceField(
        label=_("Source"),
        choices=[(SOURCE_FILE, _("Upload a file")), (SOURCE_URL, _("Import from a URL"))],
        initial=SOURCE_FILE,
        widget=forms.RadioSelect,
    )
    file = forms.FileField(label=_("Image file"), required=False)
    # The browser's chunked upload sends the file's name and size instead of the file.
    file_name = forms.CharField(required=False, max_length=255, widget=forms.HiddenInput)
    file_size = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    url = forms.CharField(
        label=_("Image URL"),
        required=False,
        max_length=2048,
        help_text=_("The cloud downloads the image itself (http or https)."),
        validators=[cloud_text],
    )

    field_order = ["name", "description", "source", "file", "url"]

    def clean_url(self) -> str:
        url: str = self.cleaned_data.get("url", "").strip()
        if not url:
            return url
        if not url.lower().startswith(("http://", "https://")):
            raise ValidationError(_("Only http:// and https:// addresses can be imported."))
        URLValidator(schemes=["http", "https"], message=_("Enter a valid web address."))(url)
        return url

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        source = data.get("source")
        if source == self.SOURCE_URL:
            if not data.get("url") and "url" not in self.errors:
                self.add_error("url", _("Enter the address of the image."))
        elif source == self.SOURCE_FILE:
            size = self.declared_size()
            if size is None:
                self.add_error("file", _("Choose the image file."))
            elif size == 0:
                self.add_error("file", _("The file is empty."))
            elif size > max_upload_bytes():
                self.add_error(
                    "file",
                    _("The file is %(size)s; this portal accepts images up to %(limit)s.")
                    % {"size": filesizeformat(size), "limit": filesizeformat(max_upload_bytes())},
                )
        return data

    def declared_size(self) -> int | None:
        data = self.cleaned_data
        if data.get("file") is not None:
            return int(data["file"].size)
        if data.get("file_name") and data.get("file_size") is not None:
            return int(data["file_size"])
        return None

    def file_name_given(self) -> str:
        data = self.cleaned_data
        return str(data["file"].name if data.get("file") is not None else data["file_name"])


class EditImageForm(ImageFieldsForm):
    @classmethod
    def initial_for(cls, image: Image) -> dict[str, Any]:
        return {
            "name": image.name,
            "description": image.description,
            "disk_format": image.disk_format,
            "container_format": image.container_format,
            "architecture": image.architecture,
            "min_disk": image.min_disk,
            "min_ram": image.min_ram,
            "visibility": image.visibility,
            "protected": image.protected,
            "properties": format_properties(image.custom_properties),
        }

    def __init__(self, *args: Any, image: Image, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.image = image
        if image.status != "queued":
            # Glance fixes the formats once the image has data.
            for name in ("disk_format", "container_format"):
                self.fields[name].disabled = True
                self.fields[name].help_text = _("Fixed once the image has data.")
        if image.visibility == "public" and not self.is_admin:
            self.fields["visibility"].disabled = True

    def clean_visibility(self) -> str:
        value: str = self.cleaned_data["visibility"]
        if value == "public" and not self.is_admin and self.image.visibility != "public":
            return super().clean_visibility()
        return value


class CreateVolumeForm(PortalForm):
    name = forms.CharField(label=_("Volume name"), max_length=255, validators=[cloud_text])
    size = forms.IntegerField(label=_("Size (GB)"), min_value=1, max_value=16384)

    def __init__(self, *args: Any, image: Image, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.image = image
        gib = 1024**3
        needed = max(image.min_disk, -(-(image.virtual_size or image.size or 0) // gib), 1)
        self.fields["size"].initial = needed
        self.fields["size"].widget.attrs["min"] = needed
        self.fields["size"].validators.append(lambda value: _too_small(value, needed))
        self.fields["size"].help_text = _("At least %(n)d GB for this image.") % {"n": needed}
        self.fields["name"].initial = image.name


def _too_small(value: int, needed: int) -> None:
    if value < needed:
        raise ValidationError(
            _("The image needs at least %(n)d GB."), params={"n": needed}, code="too_small"
        )
