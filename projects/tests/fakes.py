"""In-memory stand-in for ProjectsGateway: a project with resources that tests can set."""

from __future__ import annotations

from dataclasses import dataclass, field

from portal.errors import CloudUnavailable
from projects.gateway import ProjectsGateway


@dataclass
class FakeProjectsGateway(ProjectsGateway):
    servers: int = 0
    volumes: int = 0
    images: int = 0
    networks: int = 0
    routers: int = 0
    floating_ips: int = 0
    security_groups: int = 1
    services: set[str] = field(
        default_factory=lambda: {"compute", "block-storage", "image", "network"}
    )
    unavailable: set[str] = field(default_factory=set)  # counters that fail as "cloud down"

    def _count(self, what: str) -> int:
        if what in self.unavailable:
            raise CloudUnavailable(f"{what}: 503 Service Unavailable")
        value: int = getattr(self, what)
        return value

    def has_service(self, service_type: str) -> bool:
        return service_type in self.services

    def count_servers(self) -> int:
        return self._count("servers")

    def count_volumes(self) -> int:
        return self._count("volumes")

    def count_images(self) -> int:
        return self._count("images")

    def count_networks(self) -> int:
        return self._count("networks")

    def count_routers(self) -> int:
        return self._count("routers")

    def count_floating_ips(self) -> int:
        return self._count("floating_ips")

    def count_security_groups(self) -> int:
        return self._count("security_groups")
