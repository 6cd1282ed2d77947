"""ML2 mechanism driver that binds every port, on any host, to the first segment.

The devcloud's computes run nova's fake virt driver and no L2 agent runs, so no
mechanism driver shipped with neutron would bind their ports: the test drivers
in the wheel bind only magic host names or need live agents. This one binds
with vif_type "ovs" on any host, including the extra binding on the destination
during a live migration, and marks the port ACTIVE because no agent ever will.
"""

# neutron_lib exists only in the devcloud venv, not where the project's mypy runs
from neutron_lib import constants  # type: ignore[import-not-found]
from neutron_lib.api.definitions import portbindings  # type: ignore[import-not-found]
from neutron_lib.plugins.ml2 import api  # type: ignore[import-not-found]


class BindAllMechanismDriver(api.MechanismDriver):  # type: ignore[misc]
    def initialize(self) -> None:
        pass

    def bind_port(self, context: api.PortContext) -> None:
        for segment in context.segments_to_bind:
            context.set_binding(
                segment[api.ID],
                portbindings.VIF_TYPE_OVS,
                {portbindings.CAP_PORT_FILTER: True, portbindings.OVS_HYBRID_PLUG: False},
                status=constants.PORT_STATUS_ACTIVE,
            )
            return

    @property
    def connectivity(self) -> str:
        return str(portbindings.CONNECTIVITY_L2)
