"""Render devcloud/templates/ into <state>/etc and <state>/clouds.yaml.

Runs on every `up` and `restart`, so the files always match this checkout and
the environment (e.g. DEVCLOUD_TOKEN_EXPIRATION); data is never touched here.
Templates use string.Template: ${NAME} is a value below, anything else is literal.
"""

import shutil
from pathlib import Path
from string import Template

from devcloud import config
from devcloud.services import SERVICES

VALUES = {
    "STATE": str(config.STATE),
    "ETC": str(config.ETC),
    "LOGS": str(config.LOGS),
    "DATA": str(config.DATA),
    "RUN": str(config.RUN),
    "DB_URL": config.DB_URL,
    "DB_USER": config.DB_USER,
    "DB_PASSWORD": config.DB_PASSWORD,
    "RABBIT_URL": config.RABBIT_URL,
    "SERVICE_PASSWORD": config.SERVICE_PASSWORD,
    "TOKEN_EXPIRATION": str(config.TOKEN_EXPIRATION),
    "MARIADB_PORT": str(config.MARIADB_PORT),
    "RABBITMQ_PORT": str(config.RABBITMQ_PORT),
    "VENV": str(config.VENV),
    "CEPH_MON_PORT": str(config.CEPH_MON_PORT),
    "CEPH_MEMSTORE_BYTES": str(config.CEPH_MEMSTORE_GB * 2**30),
}

# api-paste files ship in the wheels under <venv>/etc/<project>/
PASTE_FILES = {
    "glance/glance-api-paste.ini": "glance/glance-api-paste.ini",
    "nova/api-paste.ini": "nova/api-paste.ini",
    "neutron/api-paste.ini": "neutron/api-paste.ini",
    "cinder/api-paste.ini": "cinder/api-paste.ini",
}


def render(template: str, **values: str) -> str:
    text = (config.TEMPLATES / template).read_text()
    return Template(text).substitute(VALUES, **values)


def authtoken(user: str) -> str:
    return render("keystone-authtoken.ini", username=user)


def service_auth(section: str, user: str) -> str:
    return render("service-auth.ini", section=section, username=user)


def config_files() -> dict[str, str]:
    """Relative path under <state>/etc -> content."""
    files = {
        "keystone/keystone.conf": render("keystone.conf"),
        "placement/placement.conf": render(
            "placement.conf", keystone_authtoken=authtoken("placement")
        ),
        "glance/glance-api.conf": render("glance-api.conf", keystone_authtoken=authtoken("glance")),
        "nova/nova.conf": render(
            "nova.conf",
            keystone_authtoken=authtoken("nova"),
            service_user=service_auth("service_user", "nova"),
            placement=service_auth("placement", "placement"),
            neutron=service_auth("neutron", "neutron"),
            cinder=service_auth("cinder", "cinder"),
        ),
        "nova/nova-db.conf": render("nova-db.conf"),
        "nova/nova-api.conf": render("nova-api.conf"),
        "neutron/neutron.conf": render(
            "neutron.conf",
            keystone_authtoken=authtoken("neutron"),
            nova=service_auth("nova", "nova"),
        ),
        "neutron/plugins/ml2/ml2_conf.ini": render("ml2_conf.ini"),
        "cinder/cinder.conf": render(
            "cinder.conf",
            keystone_authtoken=authtoken("cinder"),
            service_user=service_auth("service_user", "cinder"),
            nova=service_auth("nova", "nova"),
        ),
        "ceph/ceph.conf": render("ceph.conf"),
        "mysql-client.cnf": render("mysql-client.cnf"),
        "mariadb.cnf": render("mariadb.cnf"),
        "rabbitmq.conf": render("rabbitmq.conf"),
    }
    for number in range(1, config.COMPUTES + 1):
        files[f"nova/compute{number}.conf"] = render("nova-compute.conf", number=str(number))
    for service in SERVICES:
        if service.wsgi:
            files[f"uwsgi/{service.name}.ini"] = render(
                "uwsgi.ini",
                name=service.name,
                module=service.wsgi.module,
                port=str(service.port),
                processes=str(service.wsgi.processes),
                threads=str(service.wsgi.threads),
                settings="\n".join(service.wsgi.settings),
            )
    return files


def clouds_yaml() -> str:
    entries = "".join(
        render(
            "clouds-entry.yaml", cloud=p.cloud, user=p.user, password=p.password, project=p.project
        )
        for p in config.PERSONAS
    )
    header = "# Written by devcloud (devcloud/config.py PERSONAS): demo passwords only.\n"
    return f"{header}clouds:\n{entries}"


def write_all() -> None:
    for relative, content in config_files().items():
        # database, broker and service passwords: root only
        _write(config.ETC / relative, content)
    venv_etc = config.VENV / "etc"
    for source, dest in PASTE_FILES.items():
        (config.ETC / dest).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(venv_etc / source, config.ETC / dest)
    # readable by anyone on the machine: the persona passwords are documented demo passwords
    _write(config.CLOUDS_YAML, clouds_yaml(), mode=0o644)


def _write(path: Path, content: str, mode: int = 0o640) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    path.chmod(mode)
