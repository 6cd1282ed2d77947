"""The capacity charts, drawn once per sampling round and kept in the cache: by the page that
first asks for one, or, for the whole cloud, by the worker right after its round
(draw_cloud_charts), so that the first admin to look after a round does not wait for pygal.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from capacity import charts, trends
from capacity.trends import Point, Scope


def _draw(resource: str, scope: Scope, points: list[Point]) -> bytes:
    used_key, cap_key = trends.RESOURCES[resource]
    label = str(trends.RESOURCE_LABELS[resource])
    where = _("whole cloud") if scope.kind == "cloud" else scope.name
    return charts.line_chart(
        _("%(resource)s: %(where)s") % {"resource": label, "where": where},
        [
            charts.Series(_("Used"), [(p.taken_at, p.values[used_key]) for p in points]),
            charts.Series(_("Capacity"), [(p.taken_at, p.values[cap_key]) for p in points]),
        ],
        label,
    )


def capacity_chart(
    cloud_key: str, scope: Scope, range_key: str, resource: str, latest: datetime | None
) -> bytes:
    """The chart of the round taken at `latest`, in the active language: from the cache, or
    drawn and kept there until the next round is due."""
    when = latest.isoformat() if latest else ""
    language = translation.get_language()
    name = f"{cloud_key}|{scope.key}|{scope.hosts}|{range_key}|{resource}|{when}|{language}"
    key = "stackdesk:capacity:chart:" + hashlib.sha256(name.encode()).hexdigest()
    svg: bytes | None = cache.get(key)
    if svg is None:
        span = trends.RANGES[range_key]
        points = trends.capacity_points(cloud_key, scope, timezone.now() - span, span)
        svg = _draw(resource, scope, points)
        cache.set(key, svg, settings.STACKDESK_CAPACITY_SAMPLE_EVERY)
    return svg


def draw_cloud_charts(cloud_key: str) -> int:
    """The whole cloud's charts of the latest round, every range, resource and language."""
    latest = trends.latest_round(cloud_key)
    drawn = 0
    for language, _name in settings.LANGUAGES:
        with translation.override(language):
            for range_key in trends.RANGES:
                for resource in trends.RESOURCES:
                    capacity_chart(cloud_key, Scope("cloud"), range_key, resource, latest)
                    drawn += 1
    return drawn
