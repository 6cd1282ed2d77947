"""Project-level reads for the signed-in member: how many of each resource the project has."""

from __future__ import annotations

from openstack.connection import Connection

from portal.cloud import cloud_call


class ProjectsGateway:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def has_service(self, service_type: str) -> bool:
        """From the token's catalog; no API call."""
        return bool(self.conn.has_service(service_type))

    @cloud_call
    def count_servers(self) -> int:
        return sum(1 for _ in self.conn.compute.servers(details=False))

    @cloud_call
    def count_volumes(self) -> int:
        return sum(1 for _ in self.conn.block_storage.volumes(details=False))

    @cloud_call
    def count_images(self) -> int:
        """Images the project owns (not the public ones it can merely see)."""
        return sum(1 for _ in self.conn.image.images(owner=self.conn.current_project_id))

    @cloud_call
    def count_networks(self) -> int:
        return sum(1 for _ in self.conn.network.networks(project_id=self.conn.current_project_id))

    @cloud_call
    def count_routers(self) -> int:
        return sum(1 for _ in self.conn.network.routers(project_id=self.conn.current_project_id))

    @cloud_call
    def count_floating_ips(self) -> int:
        return sum(1 for _ in self.conn.network.ips(project_id=self.conn.current_project_id))

    @cloud_call
    def count_security_groups(self) -> int:
        return sum(
            1 for _ in self.conn.network.security_groups(project_id=self.conn.current_project_id)
        )
