"""In-memory stand-in for CapacityGateway: a small cloud of resource providers (with
inventories, allocations by consumer) and projects (with quota usage), that keeps its own
state and refuses what the real services refuse (an unknown provider, a project the service
user holds no role on). `calls` counts gateway calls by method name, for the call budgets.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from capacity.gateway import CapacityGateway, ComputeUsage, Provider
from portal.errors import CloudUnavailable, NotFound, Rejected
from portal.refs import Aggregate, Inventory
from portal.refs import ProjectRef as Project


@dataclass
class FakeProvider:
    id: str
    name: str
    inventories: dict[str, Inventory]
    # consumer (instance) id -> resource class -> amount
    allocations: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class FakeProject:
    id: str
    name: str
    instances: int = 0
    vcpus: int = 0
    ram_mb: int = 0
    volume_gb: int = 0
    floating_ips: int = 0
    readable: bool = True  # the service user holds a role on it


def host(
    provider_id: str, name: str, vcpus: int = 16, ram_mb: int = 32768, disk_gb: int = 500
) -> FakeProvider:
    return FakeProvider(
        provider_id,
        name,
        {
            "VCPU": Inventory("VCPU", vcpus, 0, 4.0),
            "MEMORY_MB": Inventory("MEMORY_MB", ram_mb, 512, 1.0),
            "DISK_GB": Inventory("DISK_GB", disk_gb, 0, 1.0),
        },
    )


class FakeCapacityGateway(CapacityGateway):
    def __init__(self) -> None:  # no connection: everything lives here
        self.providers: dict[str, FakeProvider] = {}
        self.projects: dict[str, FakeProject] = {}
        self.aggregates: list[Aggregate] = []
        self.services = {"block-storage", "network"}
        self.unavailable: set[str] = set()  # method names that answer like a service down
        self.calls: Counter[str] = Counter()
        self.where = None

    def _call(self, name: str) -> None:
        self.calls[name] += 1
        if name in self.unavailable:
            raise CloudUnavailable(f"{name}: the service did not answer")

    # --- arranging -------------------------------------------------------------------------

    def add_host(self, provider: FakeProvider) -> FakeProvider:
        self.providers[provider.id] = provider
        return provider

    def allocate(self, provider_id: str, consumer: str, vcpus: int, ram_mb: int, disk: int) -> None:
        self.providers[provider_id].allocations[consumer] = {
            "VCPU": vcpus,
            "MEMORY_MB": ram_mb,
            "DISK_GB": disk,
        }

    def add_project(self, project: FakeProject) -> FakeProject:
        self.projects[project.id] = project
        return project

    # --- the gateway -----------------------------------------------------------------------

    def has_service(self, service_type: str) -> bool:
        return service_type in self.services

    def for_project(self, project_id: str) -> CapacityGateway:
        return self

    def _provider(self, provider_id: str) -> FakeProvider:
        if provider_id not in self.providers:
            raise NotFound(f"No resource provider with uuid {provider_id} found")
        return self.providers[provider_id]

    def list_resource_providers(self) -> list[Provider]:
        self._call("list_resource_providers")
        return sorted(
            (Provider(p.id, p.name) for p in self.providers.values()), key=lambda p: p.name
        )

    def list_resource_provider_inventories(self, provider_id: str) -> list[Inventory]:
        self._call("list_resource_provider_inventories")
        return list(self._provider(provider_id).inventories.values())

    def get_resource_provider_usages(self, provider_id: str) -> dict[str, int]:
        self._call("get_resource_provider_usages")
        provider = self._provider(provider_id)
        usages = dict.fromkeys(provider.inventories, 0)
        for amounts in provider.allocations.values():
            for rc, amount in amounts.items():
                usages[rc] = usages.get(rc, 0) + amount
        return usages

    def list_resource_provider_allocations(self, provider_id: str) -> tuple[str, ...]:
        self._call("list_resource_provider_allocations")
        return tuple(sorted(self._provider(provider_id).allocations))

    def list_user_projects(self) -> list[Project]:
        self._call("list_user_projects")
        return [Project(p.id, p.name) for p in self.projects.values() if p.readable]

    def _project(self, project_id: str) -> FakeProject:
        project = self.projects.get(project_id)
        if project is None or not project.readable:
            raise Rejected("Policy doesn't allow os_compute_api:os-quota-sets:detail", 403)
        return project

    def get_compute_quota_set(self, project_id: str) -> ComputeUsage:
        self._call("get_compute_quota_set")
        p = self._project(project_id)
        return ComputeUsage(p.instances, p.vcpus, p.ram_mb)

    def get_volume_quota_set(self, project_id: str) -> int:
        self._call("get_volume_quota_set")
        return self._project(project_id).volume_gb

    def get_network_quota(self, project_id: str) -> int:
        self._call("get_network_quota")
        return self._project(project_id).floating_ips

    def list_aggregates(self) -> list[Aggregate]:
        self._call("list_aggregates")
        return list(self.aggregates)
