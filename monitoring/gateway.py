"""The portal's door to Prometheus: RabbitMQ, MariaDB and Ceph as their exporters report them.

Prometheus is asked through its HTTP query API (`/api/v1/query`, `/api/v1/targets`) with a
short timeout; nothing else here talks to the network. One error boundary (`_ask`): an
unreachable Prometheus, an HTTP error, an answer that is not Prometheus' JSON, or a scrape
that failed all become `NoData`, which each `get_*_health` turns into a section in the state
"no data" that names the target and the reason. Never an exception to the view.

Each `get_*_health` makes one query (the exporter's `up` and its figures together), plus one
targets call when the scrape failed, to show Prometheus' own error. Reasons are lazy
translations: the functions may run in threads, the template renders them in the user's
language.

The jobs are found by name: devcloud's (devcloud/templates/prometheus.yml) and Kolla's.
"""

from __future__ import annotations

import json
import math
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

TIMEOUT = 3.0  # seconds; the sections load beside the page, a slow Prometheus only delays them

State = Literal["ok", "warning", "error", "no data"]
# worst first, for the state of a section that has several reasons
_RANK: dict[State, int] = {"error": 3, "warning": 2, "no data": 1, "ok": 0}

RABBITMQ_JOBS = ("rabbitmq",)
MARIADB_JOBS = ("mysqld", "mariadb")
CEPH_JOBS = ("ceph", "ceph_mgr_exporter")

# Connections above this share of max_connections are a warning.
CONNECTIONS_WARNING = 0.8
# A service queue with this many messages ready (not yet taken by a consumer) is a warning.
QUEUE_BACKLOG_WARNING = 10


class NoData(Exception):
    """Prometheus gave no usable answer; the message says why (shown to the admin)."""

    def __init__(self, reason: str | Promise, target: str = "") -> None:
        super().__init__(str(reason))
        self.reason = reason
        self.target = target


@dataclass(frozen=True)
class Sample:
    """One series of an instant query: its labels (the metric name in `__name__`) and value."""

    labels: dict[str, str]
    value: float

    @property
    def name(self) -> str:
        return self.labels.get("__name__", "")


@dataclass(frozen=True)
class Finding:
    """A state and why; a section's state is its worst finding's."""

    state: State
    reason: str | Promise


@dataclass(frozen=True)
class Section:
    """What every section shows: its state, the reasons, where the figures come from."""

    state: State
    findings: tuple[Finding, ...]
    target: str  # job and address Prometheus scrapes, e.g. "rabbitmq 127.0.0.1:15692"
    scraped: bool = True  # False: no figures at all (Prometheus or the scrape failed)

    @property
    def reasons(self) -> list[str | Promise]:
        return [f.reason for f in self.findings]


@dataclass(frozen=True)
class Queue:
    vhost: str
    name: str
    service: str  # nova, neutron, cinder, reply (RPC answers), other
    ready: int
    unacked: int
    consumers: int


@dataclass(frozen=True)
class RabbitMQHealth:
    section: Section
    node: str = ""
    queues: tuple[Queue, ...] = ()  # every queue the exporter reports, by service and name
    ready: int = 0  # messages ready, in every queue
    unacked: int = 0

    @property
    def service_queues(self) -> list[Queue]:
        """nova's, neutron's and cinder's (not RPC replies, not other applications')."""
        return [q for q in self.queues if q.service in SERVICES]


@dataclass(frozen=True)
class Replica:
    channel: str  # MariaDB's connection name ("" for the default one)
    primary: str
    io_running: bool
    sql_running: bool
    seconds_behind: float | None


@dataclass(frozen=True)
class MariaDBHealth:
    section: Section
    connections: int = 0
    max_connections: int = 0
    max_used_connections: int = 0
    slow_queries: int = 0  # since the server started
    slow_queries_last_hour: int = 0
    replicas: tuple[Replica, ...] = ()  # empty: this server replicates from no other


@dataclass(frozen=True)
class CephCheck:
    code: str  # Ceph's health check name, e.g. OSD_DOWN
    severity: State  # warning or error
    words: str | Promise  # what it means, in plain words


@dataclass(frozen=True)
class Pool:
    name: str
    stored: int  # bytes of data (before replication)
    max_avail: int  # bytes that can still be written to it
    objects: int


@dataclass(frozen=True)
class CephHealth:
    section: Section
    status: str = ""  # HEALTH_OK, HEALTH_WARN or HEALTH_ERR
    checks: tuple[CephCheck, ...] = ()
    total_bytes: int = 0
    used_bytes: int = 0
    pools: tuple[Pool, ...] = ()
    osds: int = 0
    osds_up: int = 0
    osds_in: int = 0

    @property
    def used_percent(self) -> float:
        return 100 * self.used_bytes / self.total_bytes if self.total_bytes else 0.0


@dataclass(frozen=True)
class Prometheus:
    """Prometheus at `url` (STACKDESK_PROMETHEUS_URL)."""

    url: str
    timeout: float = TIMEOUT
    calls: list[str] = field(default_factory=list, compare=False)  # paths asked, for tests

    def query(self, promql: str) -> list[Sample]:
        """An instant query's vector result."""
        data = self._ask("/api/v1/query", {"query": promql})
        if not isinstance(data, dict) or data.get("resultType") != "vector":
            raise NoData(_("Prometheus answered the query with something other than a vector."))
        try:
            return [
                Sample(dict(r["metric"]), float(r["value"][1]))
                for r in data["result"]
                if not math.isnan(float(r["value"][1]))
            ]
        except (KeyError, IndexError, TypeError, ValueError) as exc:
            raise NoData(_("Prometheus' answer is not a query result.")) from exc

    def scrape_errors(self, jobs: Iterable[str]) -> dict[str, str]:
        """scrape URL -> the last scrape's error, for the jobs' targets that are down."""
        data = self._ask("/api/v1/targets", {"state": "active"})
        wanted = set(jobs)
        try:
            return {
                t["scrapeUrl"]: t.get("lastError") or str(_("no error given"))
                for t in data["activeTargets"]
                if t["labels"].get("job") in wanted and t.get("health") != "up"
            }
        except (KeyError, TypeError) as exc:
            raise NoData(_("Prometheus' answer is not a list of targets.")) from exc

    def _ask(self, path: str, params: dict[str, str]) -> Any:
        """The `data` of Prometheus' answer; NoData for anything else (the one boundary)."""
        self.calls.append(path)
        url = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        try:
            # S310: the URL is the operator's setting, http(s) only (settings.py checks it)
            with urllib.request.urlopen(url, timeout=self.timeout) as answer:  # noqa: S310
                body = json.load(answer)
        except urllib.error.HTTPError as exc:
            body = _error_body(exc)
            if body is None:
                raise NoData(
                    format_lazy(_("Prometheus answered HTTP {status}."), status=exc.code)
                ) from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise NoData(
                format_lazy(
                    _("Prometheus at {url} is not reachable: {reason}"), url=self.url, reason=reason
                )
            ) from exc
        except ValueError as exc:  # JSON (and UnicodeDecodeError)
            raise NoData(_("Prometheus' answer is not JSON.")) from exc
        if not isinstance(body, dict) or body.get("status") != "success":
            error = body.get("error", "") if isinstance(body, dict) else ""
            raise NoData(format_lazy(_("Prometheus refused the query: {error}"), error=error))
        return body.get("data")


def _error_body(exc: urllib.error.HTTPError) -> dict[str, Any] | None:
    """Prometheus explains a bad query (HTTP 400/422) in a JSON body; other errors have none."""
    try:
        body = json.load(exc)
    except (ValueError, OSError):
        return None
    return body if isinstance(body, dict) and "status" in body else None


def _worst(findings: Iterable[Finding]) -> State:
    return max((f.state for f in findings), key=_RANK.__getitem__, default="ok")


def _section(findings: list[Finding], target: str) -> Section:
    return Section(_worst(findings), tuple(findings), target)


def _no_data(error: NoData, jobs: tuple[str, ...]) -> Section:
    return Section(
        "no data", (Finding("no data", error.reason),), error.target or jobs[0], scraped=False
    )


def _scraped(prometheus: Prometheus, jobs: tuple[str, ...], names: str) -> tuple[str, list[Sample]]:
    """(the target, the metrics matching `names`) of the jobs; NoData unless a scrape worked."""
    selector = f'{{job=~"{"|".join(jobs)}",__name__=~"up|{names}"}}'
    samples = prometheus.query(selector)
    ups = [s for s in samples if s.name == "up"]
    if not ups:
        raise NoData(
            format_lazy(_("Prometheus scrapes no job named {jobs}."), jobs=" / ".join(jobs)),
            jobs[0],
        )
    target = ", ".join(sorted(f"{s.labels.get('job')} {s.labels.get('instance')}" for s in ups))
    if all(s.value == 0 for s in ups):
        errors = prometheus.scrape_errors(jobs)
        detail = "; ".join(f"{url}: {error}" for url, error in errors.items())
        raise NoData(
            format_lazy(
                _("The last scrape of {target} failed: {error}"),
                target=target,
                error=detail or _("no error given"),
            ),
            target,
        )
    return target, [s for s in samples if s.name != "up"]


# --- RabbitMQ (rabbitmq_prometheus, /metrics/per-object) --------------------------------------

_QUEUE_FIGURES = (
    "rabbitmq_queue_messages_ready",
    "rabbitmq_queue_messages_unacked",
    "rabbitmq_queue_consumers",
)
_ALARMS = {
    "rabbitmq_alarms_memory_used_watermark": _(
        "RabbitMQ uses more memory than its watermark and blocks every publisher."
    ),
    "rabbitmq_alarms_free_disk_space_watermark": _(
        "RabbitMQ's disk is below its free space limit and blocks every publisher."
    ),
    "rabbitmq_alarms_file_descriptor_limit": _(
        "RabbitMQ has run out of file descriptors and refuses new connections."
    ),
}
# oslo.messaging topics of each service (queues are named topic, topic.host, topic_fanout_*)
_SERVICE_TOPICS = {
    "nova": re.compile(r"^(compute|compute-alt|conductor|scheduler|cert|consoleauth)([._]|$)"),
    "neutron": re.compile(r"^(q-|neutron|dhcp_agent|l3_agent|metering_agent)"),
    "cinder": re.compile(r"^cinder-"),
}


SERVICES = tuple(_SERVICE_TOPICS)


def service_of_queue(name: str) -> str:
    for service, pattern in _SERVICE_TOPICS.items():
        if pattern.match(name):
            return service
    return "reply" if name.startswith("reply_") else "other"


def get_rabbitmq_health(prometheus: Prometheus) -> RabbitMQHealth:
    """Up, the node, and messages ready/unacknowledged and consumers per queue of nova,
    neutron and cinder. A service's queue without a consumer is an error (its messages wait
    for a process that is not there); messages waiting long are not visible in one sample."""
    names = "|".join((*_QUEUE_FIGURES, "rabbitmq_identity_info", *_ALARMS))
    try:
        target, samples = _scraped(prometheus, RABBITMQ_JOBS, names)
    except NoData as error:
        return RabbitMQHealth(_no_data(error, RABBITMQ_JOBS))
    figures: dict[tuple[str, str], dict[str, int]] = {}
    for s in samples:
        if s.name in _QUEUE_FIGURES:
            key = (s.labels.get("vhost", ""), s.labels.get("queue", ""))
            figures.setdefault(key, {})[s.name] = int(s.value)
    queues = sorted(
        (
            Queue(
                vhost,
                name,
                service_of_queue(name),
                f.get("rabbitmq_queue_messages_ready", 0),
                f.get("rabbitmq_queue_messages_unacked", 0),
                f.get("rabbitmq_queue_consumers", 0),
            )
            for (vhost, name), f in figures.items()
        ),
        key=lambda q: (q.service, q.name, q.vhost),
    )
    findings = [
        Finding("error", reason)
        for s in samples
        if s.name in _ALARMS and s.value > 0
        for reason in (_ALARMS[s.name],)
    ]
    services = [q for q in queues if q.service in SERVICES]
    idle = [q.name for q in services if q.consumers == 0]
    backlog = [q.name for q in services if q.ready >= QUEUE_BACKLOG_WARNING]
    if backlog:
        findings.append(
            Finding(
                "warning",
                format_lazy(
                    _("Messages wait in {queues} ({n} or more each)."),
                    queues=", ".join(backlog),
                    n=QUEUE_BACKLOG_WARNING,
                ),
            )
        )
    if idle:
        findings.append(
            Finding(
                "error",
                format_lazy(
                    _("No process consumes {queues}: their messages are not handled."),
                    queues=", ".join(idle),
                ),
            )
        )
    if not services:
        # RabbitMQ is up, but what the section is for is missing
        findings.append(
            Finding(
                "no data",
                _(
                    "RabbitMQ reports no queue of nova, neutron or cinder: it gives a queue's "
                    "figures only if the queue was declared after its statistics were on "
                    "(rabbitmq_prometheus enabled). Restart the services to see theirs."
                ),
            )
        )
    if not findings:
        findings.append(
            Finding(
                "ok",
                format_lazy(
                    _("{n} queues of nova, neutron and cinder, each with a consumer."),
                    n=len(services),
                ),
            )
        )
    node = next(
        (s.labels.get("rabbitmq_node", "") for s in samples if s.name == "rabbitmq_identity_info"),
        "",
    )
    return RabbitMQHealth(
        _section(findings, target),
        node=node,
        queues=tuple(queues),
        ready=sum(q.ready for q in queues),
        unacked=sum(q.unacked for q in queues),
    )


# --- MariaDB (prometheus-mysqld-exporter) -----------------------------------------------------

_MARIADB_FIGURES = (
    "mysql_up",
    "mysql_global_status_threads_connected",
    "mysql_global_status_max_used_connections",
    "mysql_global_variables_max_connections",
    "mysql_global_status_slow_queries",
    "mysql_slave_status_slave_io_running",
    "mysql_slave_status_slave_sql_running",
    "mysql_slave_status_seconds_behind_master",
)


def get_mariadb_health(prometheus: Prometheus) -> MariaDBHealth:
    """Up, connections against the limit, slow queries (all and in the last hour) and, if the
    server replicates from another, each replication channel's threads and delay."""
    try:
        target, samples = _scraped(prometheus, MARIADB_JOBS, "|".join(_MARIADB_FIGURES))
        jobs = "|".join(MARIADB_JOBS)
        # a counter's growth needs its own (range) query
        recent = prometheus.query(
            f'sum(increase(mysql_global_status_slow_queries{{job=~"{jobs}"}}[1h]))'
        )
    except NoData as error:
        return MariaDBHealth(_no_data(error, MARIADB_JOBS))
    one = {s.name: s.value for s in samples if not s.name.startswith("mysql_slave_status_")}
    if one.get("mysql_up", 0) == 0:
        section = _section(
            [Finding("error", _("The exporter answers but cannot reach MariaDB (mysql_up is 0)."))],
            target,
        )
        return MariaDBHealth(section)
    connections = int(one.get("mysql_global_status_threads_connected", 0))
    limit = int(one.get("mysql_global_variables_max_connections", 0))
    slow_recent = int(round(recent[0].value)) if recent else 0
    replicas = _replicas(samples)
    findings = []
    if limit and connections >= CONNECTIONS_WARNING * limit:
        findings.append(
            Finding(
                "warning",
                format_lazy(
                    _("{n} of {limit} connections in use: new ones will soon be refused."),
                    n=connections,
                    limit=limit,
                ),
            )
        )
    if slow_recent:
        findings.append(
            Finding(
                "warning",
                format_lazy(_("{n} slow queries in the last hour."), n=slow_recent),
            )
        )
    for replica in replicas:
        if not (replica.io_running and replica.sql_running):
            findings.append(
                Finding(
                    "error",
                    format_lazy(
                        _("Replication from {primary} has stopped."), primary=replica.primary
                    ),
                )
            )
    if not findings:
        findings.append(
            Finding(
                "ok",
                format_lazy(
                    _("Up; {n} of {limit} connections in use."), n=connections, limit=limit
                ),
            )
        )
    return MariaDBHealth(
        _section(findings, target),
        connections=connections,
        max_connections=limit,
        max_used_connections=int(one.get("mysql_global_status_max_used_connections", 0)),
        slow_queries=int(one.get("mysql_global_status_slow_queries", 0)),
        slow_queries_last_hour=slow_recent,
        replicas=replicas,
    )


def _replicas(samples: list[Sample]) -> tuple[Replica, ...]:
    channels: dict[tuple[str, str], dict[str, float]] = {}
    for s in samples:
        if s.name.startswith("mysql_slave_status_"):
            key = (
                s.labels.get("channel_name", s.labels.get("connection_name", "")),
                s.labels.get("master_host", ""),
            )
            channels.setdefault(key, {})[s.name.removeprefix("mysql_slave_status_")] = s.value
    return tuple(
        Replica(
            channel,
            primary,
            io_running=f.get("slave_io_running", 0) == 1,
            sql_running=f.get("slave_sql_running", 0) == 1,
            seconds_behind=f.get("seconds_behind_master"),
        )
        for (channel, primary), f in sorted(channels.items())
    )


# --- Ceph (the manager's prometheus module) ---------------------------------------------------

_CEPH_FIGURES = (
    "ceph_health_status",
    "ceph_health_detail",
    "ceph_cluster_total_bytes",
    "ceph_cluster_total_used_bytes",
    "ceph_pool_metadata",
    "ceph_pool_stored",
    "ceph_pool_max_avail",
    "ceph_pool_objects",
    "ceph_osd_up",
    "ceph_osd_in",
)
_CEPH_STATUS = {0: "HEALTH_OK", 1: "HEALTH_WARN", 2: "HEALTH_ERR"}
# Ceph's health checks (docs.ceph.com, rados/operations/health-checks) in plain words
CEPH_CHECK_WORDS: dict[str, Promise] = {
    "OSD_DOWN": _("One or more OSDs (the daemons that store data) are down."),
    "OSD_HOST_DOWN": _("Every OSD of a host is down."),
    "OSD_NEARFULL": _("An OSD is nearly full."),
    "OSD_BACKFILLFULL": _("An OSD is too full to take data moved from other OSDs."),
    "OSD_FULL": _("An OSD is full: the cluster refuses writes."),
    "OSDMAP_FLAGS": _("A cluster flag such as noout or pause is set by an operator."),
    "POOL_NEARFULL": _("A pool is nearly at its quota."),
    "POOL_FULL": _("A pool is at its quota: writes to it are refused."),
    "POOL_NO_REDUNDANCY": _("A pool keeps a single copy of its data."),
    "POOL_APP_NOT_ENABLED": _("A pool is not tagged with the application that uses it."),
    "POOL_TOO_FEW_PGS": _("A pool has fewer placement groups than it should."),
    "PG_AVAILABILITY": _("Some data is not available: placement groups are inactive."),
    "PG_DEGRADED": _("Some data has fewer copies than it should."),
    "PG_DAMAGED": _("Scrubbing found inconsistent data."),
    "OBJECT_MISPLACED": _("Some objects are not where they belong and are being moved."),
    "OBJECT_UNFOUND": _("Some objects cannot be found on any OSD."),
    "PG_NOT_SCRUBBED": _("Some placement groups have not been checked (scrubbed) recently."),
    "PG_NOT_DEEP_SCRUBBED": _("Some placement groups have not been deep-scrubbed recently."),
    "SLOW_OPS": _("Requests to the OSDs or monitors take a long time."),
    "MON_DOWN": _("A monitor is down."),
    "MON_CLOCK_SKEW": _("The monitors' clocks disagree."),
    "MON_DISK_LOW": _("A monitor's disk is nearly full."),
    "MGR_MODULE_ERROR": _("A manager module has failed."),
    "RECENT_CRASH": _("A Ceph daemon crashed recently."),
    "TOO_FEW_OSDS": _("There are fewer OSDs than the pools' size needs."),
    "AUTH_INSECURE_GLOBAL_ID_RECLAIM_ALLOWED": _(
        "Clients may reclaim their global id insecurely (CVE-2021-20288)."
    ),
}


def _severity(label: str) -> State:
    # Pacific labels "Severity.warn" / "Severity.error", later releases HEALTH_WARN / HEALTH_ERR
    return "error" if label in {"HEALTH_ERR", "Severity.error"} else "warning"


def get_ceph_health(prometheus: Prometheus) -> CephHealth:
    """Health with its active checks in plain words, capacity used of total, pools (stored,
    still writable, objects) and OSDs up and in."""
    try:
        target, samples = _scraped(prometheus, CEPH_JOBS, "|".join(_CEPH_FIGURES))
    except NoData as error:
        return CephHealth(_no_data(error, CEPH_JOBS))
    one = {s.name: s.value for s in samples}
    if "ceph_health_status" not in one:
        section = _section(
            [Finding("no data", _("The manager's prometheus module reports no cluster health."))],
            target,
        )
        return CephHealth(section)
    status = _CEPH_STATUS.get(int(one["ceph_health_status"]), "HEALTH_ERR")
    checks = tuple(
        sorted(
            (
                CephCheck(
                    code,
                    _severity(s.labels.get("severity", "")),
                    CEPH_CHECK_WORDS.get(code, code),
                )
                for s in samples
                if s.name == "ceph_health_detail" and s.value == 1
                for code in (s.labels.get("name", ""),)
            ),
            key=lambda c: (-_RANK[c.severity], c.code),
        )
    )
    osd_up = {s.labels.get("ceph_daemon", ""): s.value for s in samples if s.name == "ceph_osd_up"}
    osd_in = {s.labels.get("ceph_daemon", ""): s.value for s in samples if s.name == "ceph_osd_in"}
    findings = [
        Finding(c.severity, format_lazy("{code}: {words}", code=c.code, words=c.words))
        for c in checks
    ]
    if status != "HEALTH_OK" and not checks:
        findings.append(
            Finding(
                "error" if status == "HEALTH_ERR" else "warning",
                format_lazy(_("Ceph reports {status}."), status=status),
            )
        )
    if not findings:
        findings.append(
            Finding(
                "ok",
                format_lazy(
                    _("HEALTH_OK; {up} of {n} OSDs up."),
                    up=int(sum(osd_up.values())),
                    n=len(osd_up),
                ),
            )
        )
    return CephHealth(
        _section(findings, target),
        status=status,
        checks=checks,
        total_bytes=int(one.get("ceph_cluster_total_bytes", 0)),
        used_bytes=int(one.get("ceph_cluster_total_used_bytes", 0)),
        pools=_pools(samples),
        osds=len(osd_up),
        osds_up=int(sum(osd_up.values())),
        osds_in=int(sum(osd_in.values())),
    )


def _pools(samples: list[Sample]) -> tuple[Pool, ...]:
    names = {
        s.labels.get("pool_id", ""): s.labels.get("name", "")
        for s in samples
        if s.name == "ceph_pool_metadata"
    }
    figures: dict[str, dict[str, int]] = {}
    for s in samples:
        if s.name in {"ceph_pool_stored", "ceph_pool_max_avail", "ceph_pool_objects"}:
            figures.setdefault(s.labels.get("pool_id", ""), {})[s.name] = int(s.value)
    return tuple(
        sorted(
            (
                Pool(
                    names.get(pool_id, pool_id),
                    f.get("ceph_pool_stored", 0),
                    f.get("ceph_pool_max_avail", 0),
                    f.get("ceph_pool_objects", 0),
                )
                for pool_id, f in figures.items()
            ),
            key=lambda p: p.name,
        )
    )
