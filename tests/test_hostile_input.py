"""Hostile input, property-based (issue 18): every form of the portal, and the main views
through the test client with the in-memory fake gateways, fed huge and negative numbers,
text beyond U+FFFF, NUL bytes, very long strings and impossible dates.

Asserted: a form's is_valid() never raises; a view never answers 5xx; a view that refuses
its form changes nothing in the fakes or in the portal's own rows; a text the clouds cannot
store never gets through a form that sends names and descriptions to OpenStack.

Every Form subclass in the apps must be listed in FORMS (test_every_form_is_listed), so a
new form cannot be left out. Examples are few and derandomised, so the layer stays fast and
a failure shows up the same way on every run.
"""

from __future__ import annotations

import copy
import importlib
import pkgutil
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

import pytest
from django import forms
from django.test import Client
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compute import admin_forms, launch
from compute import forms as compute_forms
from compute.gateway import ComputeGateway
from compute.hosts import HostChoice
from compute.tests.fakes import FakeComputeGateway
from images import forms as image_forms
from images.gateway import ImagesGateway
from images.models import ImageUpload
from images.tests.fakes import FakeImagesGateway
from network import forms as network_forms
from network.gateway import NetworkGateway
from network.tests.fakes import FakeNetworkGateway
from portal import audit, preferences
from portal import forms as portal_forms
from portal.gateways import override
from portal.models import Operation
from portal.refs import ProjectRef
from portal.validators import BMP_END
from projects import forms as project_forms
from projects.gateway import ProjectsGateway
from projects.tests.fakes import FakeProjectsGateway
from quotas import catalog
from quotas import forms as quota_forms
from quotas.gateway import QuotasGateway
from quotas.models import NetworkQuotaDefaults
from quotas.tests.fakes import FakeQuotasGateway
from volumes import forms as volume_forms
from volumes.gateway import Backup, VolumesGateway
from volumes.tests.fakes import FakeVolumesGateway

pytestmark = pytest.mark.django_db

APPS = ("portal", "projects", "quotas", "images", "network", "compute", "volumes")

FAST = settings(
    max_examples=10,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# A half write needs a hostile field beside a real change: more examples where it can happen.
MORE = settings(FAST, max_examples=20)
FEWER = settings(FAST, max_examples=8)  # views that change one thing in one service

# --- hostile values -------------------------------------------------------------------------

LITERALS = [
    "",
    " ",
    "\x00",
    "web\x00",
    "-1",
    "-0",
    "-2",
    "0",
    str(2**31 - 1),
    str(2**31),
    str(-(2**31) - 1),
    str(2**63),
    str(10**20),
    "1" * 5000,  # beyond Python's 4300-digit int() limit
    "1e309",
    "nan",
    "inf",
    "1.5",
    "0x10",
    "\u0663",  # an Arabic-Indic 3, which int() accepts
    "0001-01-01",
    "0999-12-31",
    "1-01-01",
    "2026-02-30",
    "2026-13-01",
    "9999-12-31",
    "10000-01-01",
    "9999-12-31T23:59",
    "0001-01-01T00:00",
    "2010-01-01",
    datetime.now(UTC).date().isoformat(),
    "0.0.0.0/0",
    "::/0",
    "999.1.1.1/33",
    "10.0.0.1",
    "fe80::1%eth0",
    "1-65535",
    "65535-1",
    "../../etc/passwd",
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "{{ 7|add:7 }}",
    "%(name)s",
    "\r\n",
    "\u202eevil",
    "web \U0001f600",
    "\U00020000",  # a CJK extension B ideograph
    "x" * 100_000,
]
HOSTILE = st.one_of(
    st.sampled_from(LITERALS),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.text(max_size=40),
    st.text(st.characters(min_codepoint=BMP_END + 1), min_size=1, max_size=4),
)


def _choices(field: forms.Field) -> list[str]:
    found = []
    for value, label in getattr(field, "choices", None) or []:
        if isinstance(label, list | tuple):  # an optgroup
            found += [str(v) for v, _label in label]
        else:
            found.append(str(value))
    return found


WEIRD_DATES = st.one_of(
    st.sampled_from(["0001-01-01", "0999-12-31", "0100-06-15", "1000-01-01", "2009-12-31"]),
    st.sampled_from(["1970-01-01", "2038-01-19", "9999-12-31", "2026-02-29", "2024-02-29"]),
    st.dates().map(date.isoformat),
)
# Counts and sizes at and beyond what the services store (MySQL INT), and below -1.
BOUNDS = st.sampled_from(["-2", "-1", str(2**31 - 1), str(2**31), str(10**20), str(2**63)])


def value_lists(field: forms.Field) -> st.SearchStrategy[list[str]]:
    """A field's hostile values (one, or several under one name), with its choices and, for
    a date, dates from year 1 to 9999 among them."""
    options: list[st.SearchStrategy[str]] = [HOSTILE]
    if choices := _choices(field):
        options.append(st.sampled_from(choices))
    if isinstance(field, forms.DateField | forms.DateTimeField):
        options += [WEIRD_DATES, WEIRD_DATES]
    if isinstance(field, forms.IntegerField):
        options.append(BOUNDS)
    one = st.one_of(*options)
    return st.one_of(one.map(lambda v: [v]), st.lists(one, max_size=3))


def sensible(field: forms.Field) -> st.SearchStrategy[str]:
    """A value the field takes, so the hostile ones sit among otherwise sensible data and the
    forms' clean() methods and the views behind them get to see them. A number is its
    initial value or one more, so a form also changes something beside its hostile field."""
    if isinstance(field.initial, int) and not isinstance(field.initial, bool):
        return st.sampled_from([str(field.initial), str(field.initial + 1)])
    if field.initial is not None and not callable(field.initial):
        return st.just(str(field.initial))
    if choices := [c for c in _choices(field) if c]:
        return st.just(choices[0])
    if isinstance(field, forms.DateField | forms.DateTimeField):
        return st.just((datetime.now(UTC).date() - timedelta(days=1)).isoformat())
    if isinstance(field, forms.IntegerField):
        return st.just(str(max(field.min_value or 0, 1)))
    if isinstance(field, forms.BooleanField):
        return st.just("on")
    return st.just("hostile-1")


def posted(draw: st.DrawFn, fields: dict[str, forms.Field], prefix: str = "") -> dict[str, Any]:
    """Sensible values, with one to three fields hostile (or left out)."""
    names = [n for n, f in fields.items() if not isinstance(f, forms.FileField)]
    if not names:
        return {}
    hostile = draw(st.lists(st.sampled_from(names), min_size=1, max_size=3, unique=True))
    data: dict[str, list[str]] = {}
    for name in names:
        if name not in hostile:
            data[f"{prefix}{name}"] = [draw(sensible(fields[name]))]
        elif draw(st.integers(0, 9)):  # else left out altogether
            data[f"{prefix}{name}"] = draw(value_lists(fields[name]))
    return data


# --- every form, built as its views build it --------------------------------------------------


class World:
    """The objects the forms are built from, taken from the fakes (nothing is called)."""

    def __init__(self) -> None:
        self.compute = FakeComputeGateway()
        self.server = self.compute.add_server()
        self.choices = launch.load_choices(self.compute)
        self.network = FakeNetworkGateway()
        self.public = self.network.networks[self.network.public_id]
        self.image = FakeImagesGateway().add("cirros", min_disk=1)
        self.keystone = FakeProjectsGateway()
        self.quotas = FakeQuotasGateway()
        self.quota_sets = {
            catalog.COMPUTE: self.quotas.get_compute_quota_set("p-demo"),
            catalog.VOLUME: self.quotas.get_volume_quota_set("p-demo"),
            catalog.NETWORK: self.quotas.get_network_quota("p-demo"),
        }
        self.volumes = FakeVolumesGateway()
        self.volume = self.volumes.add_volume("data", 4)
        self.volumes.add_image("debian", min_disk=2)
        self.volumes.create_snapshot(self.volume.id, "snap", "", force=False)
        self.volumes.settle()


@cache
def world() -> World:
    return World()


Factory = Callable[[Any], forms.BaseForm]


def _forms() -> dict[type[forms.BaseForm], Factory]:
    w, c, n, k = world(), world().compute, world().network, world().keystone
    v = w.volumes
    subnets, groups = list(n.subnets.values()), list(n.groups.values())
    domains, projects = k.list_domains(), list(k.projects.values())
    roles, users = list(k.roles.values()), list(k.users.values())
    services = list(catalog.SERVICE_TYPES)
    return {
        # portal
        portal_forms.PortalForm: lambda d: portal_forms.PortalForm(d),
        portal_forms.SignInForm: lambda d: portal_forms.SignInForm(d),
        portal_forms.ProjectChoiceForm: lambda d: portal_forms.ProjectChoiceForm(d),
        preferences.PreferencesForm: lambda d: preferences.PreferencesForm(d),
        audit.AuditFilterForm: lambda d: audit.AuditFilterForm(d),
        # projects
        project_forms._PasswordPair: lambda d: project_forms._PasswordPair(d),
        project_forms.ProjectForm: lambda d: project_forms.ProjectForm(d, domains=domains),
        project_forms.ProjectFilterForm: lambda d: project_forms.ProjectFilterForm(d),
        project_forms.UserForm: lambda d: project_forms.UserForm(
            d, domains=domains, projects=projects, roles=roles
        ),
        project_forms.UserEditForm: lambda d: project_forms.UserEditForm(d, projects=projects),
        project_forms.PasswordForm: lambda d: project_forms.PasswordForm(d),
        project_forms.GroupForm: lambda d: project_forms.GroupForm(d, domains=None),
        project_forms.RoleForm: lambda d: project_forms.RoleForm(d),
        project_forms.AssignRoleForm: lambda d: project_forms.AssignRoleForm(
            d, actors=users, roles=roles, actor_label="User"
        ),
        project_forms.GroupMemberForm: lambda d: project_forms.GroupMemberForm(d, users=users),
        project_forms.DomainForm: lambda d: project_forms.DomainForm(d),
        project_forms.OwnPasswordForm: lambda d: project_forms.OwnPasswordForm(d),
        project_forms.AppCredentialForm: lambda d: project_forms.AppCredentialForm(
            d, roles=["member", "reader"]
        ),
        # quotas
        quota_forms.QuotaValuesForm: lambda d: quota_forms.QuotaValuesForm(
            d, services=services, initial_values=w.quotas.defaults
        ),
        quota_forms.ProjectQuotaForm: lambda d: quota_forms.ProjectQuotaForm(
            d, current=w.quota_sets
        ),
        quota_forms.BulkQuotaForm: lambda d: quota_forms.BulkQuotaForm(
            d, services=services, projects=[("p-demo", "demo"), ("p-study1", "study1")]
        ),
        quota_forms.UsageRangeForm: lambda d: quota_forms.UsageRangeForm(d),
        # images
        image_forms.ImageFieldsForm: lambda d: image_forms.ImageFieldsForm(d),
        image_forms.CreateImageForm: lambda d: image_forms.CreateImageForm(d, is_admin=True),
        image_forms.EditImageForm: lambda d: image_forms.EditImageForm(d, image=w.image),
        image_forms.CreateVolumeForm: lambda d: image_forms.CreateVolumeForm(d, image=w.image),
        # network
        network_forms.SubnetForm: lambda d: network_forms.SubnetForm(d, others=subnets),
        network_forms.NetworkForm: lambda d: network_forms.NetworkForm(d),
        network_forms.CreateNetworkForm: lambda d: network_forms.CreateNetworkForm(d),
        network_forms.ProviderNetworkForm: lambda d: network_forms.ProviderNetworkForm(
            d, projects=[("p-demo", "demo")]
        ),
        network_forms.PortForm: lambda d: network_forms.PortForm(d, subnets=subnets, groups=groups),
        network_forms.RouterForm: lambda d: network_forms.RouterForm(d, externals=[w.public]),
        network_forms.RouterUpdateForm: lambda d: network_forms.RouterUpdateForm(d),
        network_forms.RouterGatewayForm: lambda d: network_forms.RouterGatewayForm(
            d, externals=[w.public]
        ),
        network_forms.RouterInterfaceForm: lambda d: network_forms.RouterInterfaceForm(
            d, subnets=subnets, networks=dict(n.networks)
        ),
        network_forms.RouteForm: lambda d: network_forms.RouteForm(d, connected=["10.0.0.0/24"]),
        network_forms.SecurityGroupForm: lambda d: network_forms.SecurityGroupForm(d),
        network_forms.SecurityGroupRuleForm: lambda d: network_forms.SecurityGroupRuleForm(
            d, group=groups[0], groups=groups
        ),
        network_forms.FloatingIPForm: lambda d: network_forms.FloatingIPForm(
            d, externals=[w.public], pool_subnets=subnets
        ),
        network_forms.AssociateFloatingIPForm: lambda d: network_forms.AssociateFloatingIPForm(
            d, targets=[("port-1", "web-1")]
        ),
        # compute
        compute_forms.ServerFilterForm: lambda d: compute_forms.ServerFilterForm(d),
        compute_forms.UpdateServerForm: lambda d: compute_forms.UpdateServerForm(
            d, groups=c.list_security_groups()
        ),
        compute_forms.CreateServerImageForm: lambda d: compute_forms.CreateServerImageForm(d),
        compute_forms.ResizeServerForm: lambda d: compute_forms.ResizeServerForm(
            d, flavors=c.list_flavors(), server=w.server
        ),
        compute_forms.RebuildServerForm: lambda d: compute_forms.RebuildServerForm(
            d, images=c.list_images(), server=w.server
        ),
        compute_forms.RescueServerForm: lambda d: compute_forms.RescueServerForm(
            d, images=c.list_images()
        ),
        compute_forms.AssociateFloatingIpForm: lambda d: compute_forms.AssociateFloatingIpForm(
            d,
            floating_ips=c.list_floating_ips(),
            external_networks=c.list_networks(),
            ports=c.list_ports(),
        ),
        compute_forms.DisassociateFloatingIpForm: lambda d: (
            compute_forms.DisassociateFloatingIpForm(d, floating_ips=c.list_floating_ips())
        ),
        compute_forms.CreateServerInterfaceForm: lambda d: compute_forms.CreateServerInterfaceForm(
            d, networks=c.list_networks(), ports=c.list_ports()
        ),
        compute_forms.DeleteServerInterfaceForm: lambda d: compute_forms.DeleteServerInterfaceForm(
            d, ports=c.list_ports()
        ),
        compute_forms.CreateVolumeAttachmentForm: lambda d: (
            compute_forms.CreateVolumeAttachmentForm(d, volumes=c.list_volumes())
        ),
        compute_forms.DeleteVolumeAttachmentForm: lambda d: (
            compute_forms.DeleteVolumeAttachmentForm(d, volumes=[("v-1", "data")])
        ),
        compute_forms.CreateKeypairForm: lambda d: compute_forms.CreateKeypairForm(d),
        compute_forms.ImportKeypairForm: lambda d: compute_forms.ImportKeypairForm(d),
        compute_forms.CreateServerGroupForm: lambda d: compute_forms.CreateServerGroupForm(d),
        admin_forms.TargetHostForm: lambda d: admin_forms.TargetHostForm(
            d, choices=[HostChoice("compute1", True), HostChoice("compute2", False, "down")]
        ),
        admin_forms.LiveMigrateForm: lambda d: admin_forms.LiveMigrateForm(
            d, choices=[HostChoice("compute1", True)]
        ),
        admin_forms.DisableServiceForm: lambda d: admin_forms.DisableServiceForm(d),
        admin_forms.HostJobForm: lambda d: admin_forms.HostJobForm(d, concurrency=2),
        admin_forms.DrainHostForm: lambda d: admin_forms.DrainHostForm(d, concurrency=2),
        admin_forms.AggregateForm: lambda d: admin_forms.AggregateForm(d),
        admin_forms.AggregateHostForm: lambda d: admin_forms.AggregateHostForm(
            d, hosts=["compute1", "compute2"]
        ),
        admin_forms.AggregateMetadataForm: lambda d: admin_forms.AggregateMetadataForm(d),
        admin_forms.AdminServerFilterForm: lambda d: admin_forms.AdminServerFilterForm(
            d, hosts=["compute1"], projects=[ProjectRef("p-demo", "demo")]
        ),
        admin_forms.MigrationFilterForm: lambda d: admin_forms.MigrationFilterForm(d),
        admin_forms.FlavorForm: lambda d: admin_forms.FlavorForm(d),
        admin_forms.ExtraSpecForm: lambda d: admin_forms.ExtraSpecForm(d),
        admin_forms.FlavorAccessForm: lambda d: admin_forms.FlavorAccessForm(
            d, projects=[ProjectRef("p-demo", "demo")]
        ),
        launch.DetailsForm: lambda d: launch.DetailsForm(d, choices=w.choices),
        launch.SourceForm: lambda d: launch.SourceForm(d, choices=w.choices, count=2),
        launch.FlavorForm: lambda d: launch.FlavorForm(
            d, choices=w.choices, needs=launch.SourceNeeds(min_disk=1), count=2
        ),
        launch.NetworksForm: lambda d: launch.NetworksForm(d, choices=w.choices, count=2),
        launch.AccessForm: lambda d: launch.AccessForm(d, choices=w.choices),
        launch.ConfigurationForm: lambda d: launch.ConfigurationForm(d, choices=w.choices),
        # volumes
        volume_forms.VolumeFilterForm: lambda d: volume_forms.VolumeFilterForm(
            d, statuses=["available", "in-use"]
        ),
        volume_forms.CreateVolumeForm: lambda d: volume_forms.CreateVolumeForm(
            d,
            images=v.list_images(),
            snapshots=v.list_snapshots(),
            volumes=v.list_volumes(),
            types=v.list_volume_types(),
            zones=v.list_availability_zones(),
        ),
        volume_forms.UpdateVolumeForm: lambda d: volume_forms.UpdateVolumeForm(d),
        volume_forms.ExtendVolumeForm: lambda d: volume_forms.ExtendVolumeForm(d, volume=w.volume),
        volume_forms.RetypeVolumeForm: lambda d: volume_forms.RetypeVolumeForm(
            d, volume=w.volume, types=v.list_volume_types()
        ),
        volume_forms.CreateSnapshotForm: lambda d: volume_forms.CreateSnapshotForm(d),
        volume_forms.UploadVolumeToImageForm: lambda d: volume_forms.UploadVolumeToImageForm(d),
        volume_forms.CreateBackupForm: lambda d: volume_forms.CreateBackupForm(d),
        volume_forms.RestoreBackupForm: lambda d: volume_forms.RestoreBackupForm(
            d, backup=Backup("b-1", "b", 1, "available", w.volume.id), volumes=v.list_volumes()
        ),
        volume_forms.ServerChoiceForm: lambda d: volume_forms.ServerChoiceForm(
            d, servers={"srv-1": "web-1"}
        ),
        volume_forms.CreateTransferForm: lambda d: volume_forms.CreateTransferForm(d),
        volume_forms.AcceptTransferForm: lambda d: volume_forms.AcceptTransferForm(d),
        volume_forms.UpdateSnapshotForm: lambda d: volume_forms.UpdateSnapshotForm(d),
        # admin volumes
        volume_forms.AdminVolumeFilterForm: lambda d: volume_forms.AdminVolumeFilterForm(
            d, projects=[("p-demo", "demo")], hosts=["devcloud@ceph#ceph"], statuses=["error"]
        ),
        volume_forms.ResetVolumeStatusForm: lambda d: volume_forms.ResetVolumeStatusForm(d),
        volume_forms.CreateVolumeTypeForm: lambda d: volume_forms.CreateVolumeTypeForm(d),
        volume_forms.ExtraSpecForm: lambda d: volume_forms.ExtraSpecForm(d),
        volume_forms.ExtraSpecKeyForm: lambda d: volume_forms.ExtraSpecKeyForm(d),
        volume_forms.ProjectAccessForm: lambda d: volume_forms.ProjectAccessForm(
            d, projects=[("p-demo", "demo")]
        ),
        volume_forms.CreateQosSpecForm: lambda d: volume_forms.CreateQosSpecForm(d),
        volume_forms.QosTypeForm: lambda d: volume_forms.QosTypeForm(d, types=[("t-1", "ceph")]),
        volume_forms.VolumeServiceForm: lambda d: volume_forms.VolumeServiceForm(d),
        volume_forms.DisableVolumeServiceForm: lambda d: volume_forms.DisableVolumeServiceForm(d),
    }


FORMS = _forms()

# Forms whose names and descriptions go to Nova, Neutron, Glance, Cinder or Keystone and are
# checked with portal.validators.cloud_text (the launch wizard and the admin compute forms
# are not yet: Nova refuses such text itself, with a 400).
CLOUD_TEXT_MODULES = (
    "network.forms",
    "images.forms",
    "projects.forms",
    "compute.forms",
    "volumes.forms",
)


def _app_forms() -> set[type[forms.BaseForm]]:
    for app in APPS:
        package = importlib.import_module(app)
        for module in pkgutil.walk_packages(package.__path__, f"{app}."):
            if ".tests" not in module.name and ".migrations" not in module.name:
                importlib.import_module(module.name)

    def below(cls: type[forms.BaseForm]) -> Iterator[type[forms.BaseForm]]:
        for sub in cls.__subclasses__():
            yield sub
            yield from below(sub)

    return {f for f in below(forms.BaseForm) if f.__module__.split(".")[0] in APPS}


def test_every_form_is_listed() -> None:
    found = _app_forms()
    missing = sorted(f"{f.__module__}.{f.__qualname__}" for f in found - set(FORMS))
    assert not missing, f"add these forms to FORMS in {__name__}: {missing}"


# Outputs the views take from a valid form: they must not raise on what the form let through.
OUTPUTS: dict[type[forms.BaseForm], Callable[[Any], object]] = {
    quota_forms.UsageRangeForm: lambda f: (f.period().days, f.query()),
    quota_forms.QuotaValuesForm: lambda f: f.changes(),
    quota_forms.ProjectQuotaForm: lambda f: (f.changes(), f.previous()),
    quota_forms.BulkQuotaForm: lambda f: f.values(),
    image_forms.CreateImageForm: lambda f: f.spec(),
    volume_forms.CreateVolumeForm: lambda f: f.spec(),
    image_forms.EditImageForm: lambda f: f.spec(),
    network_forms.NetworkForm: lambda f: f.network_attrs(),
    network_forms.CreateNetworkForm: lambda f: f.network_attrs(),
    project_forms.ProjectFilterForm: lambda f: f.shown([]),
}


@pytest.mark.parametrize("form_class", list(FORMS), ids=lambda f: f.__qualname__)
@FAST
@given(data=st.data())
def test_a_form_never_raises_on_hostile_input(
    form_class: type[forms.BaseForm], data: st.DataObject
) -> None:
    build = FORMS[form_class]
    fields = build(None).fields
    values = data.draw(st.composite(lambda draw: posted(draw, fields))())
    form = build(MultiValueDict(values))
    if not form.is_valid():
        assert form.errors
        return
    if output := OUTPUTS.get(form_class):
        output(form)
    if form_class.__module__ in CLOUD_TEXT_MODULES:
        for name in ("name", "description"):
            value = form.cleaned_data.get(name)
            if isinstance(value, str):
                assert all(ord(c) <= BMP_END for c in value), (name, value)
                assert "\x00" not in value


# --- views, through the test client and the fakes ----------------------------------------------


def _state(*fakes: object) -> Any:
    """What a fake holds (not its call counters), and the portal's own rows, to compare."""
    held = [
        {
            k: v
            for k, v in vars(fake).items()
            if isinstance(v, dict | list | set) and "call" not in k and k != "tokens"
        }
        for fake in fakes
    ]
    rows = (
        Operation.objects.count(),
        ImageUpload.objects.count(),
        list(NetworkQuotaDefaults.objects.values_list("values", flat=True)),
    )
    return copy.deepcopy((held, rows))


@pytest.fixture
def fakes() -> Iterator[dict[str, Any]]:
    quotas = FakeQuotasGateway()
    quotas.in_use["p-demo"] = {catalog.COMPUTE: {"instances": 3}}
    found: dict[str, Any] = {
        "quotas": quotas,
        "compute": FakeComputeGateway(),
        "network": FakeNetworkGateway(),
        "images": FakeImagesGateway(),
        "keystone": FakeProjectsGateway(),
        "volumes": FakeVolumesGateway(),
    }
    with (
        override(ComputeGateway, found["compute"]),
        override(NetworkGateway, found["network"]),
        override(ImagesGateway, found["images"]),
        override(ProjectsGateway, found["keystone"]),
        override(QuotasGateway, quotas),
        override(VolumesGateway, found["volumes"]),
    ):
        yield found


def _fields(form_class: type[forms.BaseForm]) -> dict[str, forms.Field]:
    return dict(FORMS[form_class](None).fields)


# persona, URL, the forms whose fields it reads (with their prefixes), the fakes it may change
VIEWS: list[tuple[str, str, list[tuple[type[forms.BaseForm], str]], list[str]]] = [
    (
        "member",
        "/network/networks/create/",
        [(network_forms.CreateNetworkForm, ""), (network_forms.SubnetForm, "subnet-")],
        ["network"],
    ),
    ("member", "/network/routers/create/", [(network_forms.RouterForm, "")], ["network"]),
    (
        "member",
        "/network/security-groups/create/",
        [(network_forms.SecurityGroupForm, "")],
        ["network"],
    ),
    (
        "member",
        "/network/floating-ips/allocate/",
        [(network_forms.FloatingIPForm, "")],
        ["network"],
    ),
    ("member", "/images/create/", [(image_forms.CreateImageForm, "")], ["images"]),
    ("member", "/compute/keypairs/import/", [(compute_forms.ImportKeypairForm, "")], ["compute"]),
    (
        "member",
        "/compute/server-groups/create/",
        [(compute_forms.CreateServerGroupForm, "")],
        ["compute"],
    ),
    ("member", "/volumes/create/", [(volume_forms.CreateVolumeForm, "")], ["volumes"]),
    (
        "admin",
        "/project/identity/projects/p-demo/quotas/",
        [(quota_forms.ProjectQuotaForm, "")],
        ["quotas", "keystone"],
    ),
    ("admin", "/quotas/admin/defaults/", [(quota_forms.QuotaValuesForm, "")], ["quotas"]),
    (
        "admin",
        "/project/identity/projects/quotas/",
        [(quota_forms.BulkQuotaForm, "")],
        ["quotas", "keystone"],
    ),
    (
        "admin",
        "/project/identity/projects/create/",
        [(project_forms.ProjectForm, "")],
        ["keystone"],
    ),
    ("admin", "/project/identity/users/create/", [(project_forms.UserForm, "")], ["keystone"]),
    ("admin", "/project/identity/domains/create/", [(project_forms.DomainForm, "")], ["keystone"]),
]


MULTI_SERVICE = ("/quotas/", "/quotas/admin/defaults/")


def _view_cases(multi: bool) -> list[Any]:
    return [v for v in VIEWS if v[1].endswith(MULTI_SERVICE) == multi]


@pytest.mark.parametrize(
    ("persona", "url", "form_classes", "changed"), _view_cases(False), ids=lambda v: v
)
@FEWER
@given(data=st.data())
def test_a_view_never_fails_or_changes_anything_on_hostile_input(
    admin_client: Client,
    member_client: Client,
    fakes: dict[str, Any],
    persona: str,
    url: str,
    form_classes: list[tuple[type[forms.BaseForm], str]],
    changed: list[str],
    data: st.DataObject,
) -> None:
    post_hostile(admin_client, member_client, fakes, persona, url, form_classes, changed, data)


@pytest.mark.parametrize(
    ("persona", "url", "form_classes", "changed"), _view_cases(True), ids=lambda v: v
)
@MORE
@given(data=st.data())
def test_a_quota_view_never_fails_or_half_writes_on_hostile_input(
    admin_client: Client,
    member_client: Client,
    fakes: dict[str, Any],
    persona: str,
    url: str,
    form_classes: list[tuple[type[forms.BaseForm], str]],
    changed: list[str],
    data: st.DataObject,
) -> None:
    post_hostile(admin_client, member_client, fakes, persona, url, form_classes, changed, data)


def post_hostile(
    admin_client: Client,
    member_client: Client,
    fakes: dict[str, Any],
    persona: str,
    url: str,
    form_classes: list[tuple[type[forms.BaseForm], str]],
    changed: list[str],
    data: st.DataObject,
) -> None:
    client = admin_client if persona == "admin" else member_client
    values: dict[str, Any] = {"noise": "\x00"}  # never empty: an empty POST is tested below
    for form_class, prefix in form_classes:
        fields = _fields(form_class)
        values |= data.draw(st.composite(lambda draw, f=fields, p=prefix: posted(draw, f, p))())
    before = _state(*(fakes[name] for name in changed))
    response = client.post(url, values)
    assert response.status_code < 500, (url, response.status_code)
    if response.status_code == 400:  # the form refused: nothing may have changed
        assert _state(*(fakes[name] for name in changed)) == before, url


@pytest.mark.parametrize(
    ("persona", "url"),
    [(persona, url) for persona, url, _forms, _fakes in VIEWS],
)
def test_an_empty_post_is_a_form_error(
    admin_client: Client, member_client: Client, fakes: dict[str, Any], persona: str, url: str
) -> None:
    client = admin_client if persona == "admin" else member_client
    before = _state(*fakes.values())
    response = client.post(url, {})
    assert response.status_code < 500
    assert _state(*fakes.values()) == before


USAGE = ["/quotas/admin/usage/", "/quotas/admin/usage/export/", "/quotas/usage/export/"]


@pytest.mark.parametrize("url", USAGE)
@settings(FAST, max_examples=40)  # cheap: the period form and one page or CSV
@given(data=st.data())
def test_a_usage_period_never_breaks_a_page_or_a_csv(
    admin_client: Client, fakes: dict[str, Any], url: str, data: st.DataObject
) -> None:
    fields = _fields(quota_forms.UsageRangeForm)
    query = data.draw(st.composite(lambda draw: posted(draw, fields))())
    query["rows"] = [data.draw(st.sampled_from(["", "summary"]))]
    response = admin_client.get(url, query)
    assert response.status_code < 500
    if response.streaming:  # read it all: an error after the header line would raise here
        body = b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]
        assert body.startswith("period_start,period_end,project_id,project_name,")


OFFSETS = st.one_of(
    st.integers(max_value=-1).map(str),
    st.integers(min_value=0, max_value=10**20).map(str),
    st.sampled_from(["", "-1", "-0", "1e3", "0x10", "\u0663", " 5", "-" + "9" * 5000]),
)


@FAST
@given(offset=OFFSETS)
def test_an_upload_chunk_offset_never_fails_or_writes_out_of_place(
    member_client: Client, fakes: dict[str, Any], settings: Any, tmp_path: Any, offset: str
) -> None:
    settings.STACKDESK_IMAGE_UPLOAD_DIR = str(tmp_path / "uploads")
    settings.STACKDESK_IMAGE_UPLOAD_MAX_BYTES = 1024 * 1024
    settings.STACKDESK_IMAGE_UPLOAD_CHUNK_BYTES = 64 * 1024
    fields = {
        "name": "cirros",
        "source": "file",
        "disk_format": "raw",
        "container_format": "bare",
        "min_disk": "0",
        "min_ram": "0",
        "visibility": "private",
        "file_name": "cirros.img",
        "file_size": "8192",
    }
    started = member_client.post("/images/create/", fields, headers={"X-Upload-Mode": "chunked"})
    state = started.json()
    upload = ImageUpload.objects.get(pk=state["id"])
    before = upload.path.read_bytes()
    response = member_client.post(
        state["chunk_url"],
        b"\xff" * 4096,
        content_type="application/octet-stream",
        headers={"X-Upload-Offset": offset},
    )
    assert response.status_code < 500, (offset, response.status_code)
    upload.refresh_from_db()
    if response.status_code >= 400:
        assert upload.received == 0 and upload.path.read_bytes() == before
    else:
        assert upload.received == 4096
