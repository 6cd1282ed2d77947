# The portal image for docker-compose.yml (portal and worker share it).
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 STACKDESK_STATE=/var/lib/stackdesk \
    STACKDESK_STATIC_ROOT=/app/staticfiles
RUN apt-get update && apt-get install -y --no-install-recommends build-essential libpq-dev gettext \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.lock .
RUN pip install --no-cache-dir 'setuptools<81' wheel \
    && pip install --no-cache-dir --no-build-isolation -r requirements.lock
COPY . .
RUN for app in portal projects quotas images network compute; do \
      [ -d $app/locale ] && (cd $app && python ../manage.py compilemessages -l ko -v0); done; \
    STACKDESK_STATE=/tmp/build python manage.py collectstatic --noinput -v0 && rm -rf /tmp/build
RUN useradd --system --home /var/lib/stackdesk stackdesk \
    && mkdir -p /var/lib/stackdesk /var/lib/stackdesk-uploads \
    && chown stackdesk /var/lib/stackdesk /var/lib/stackdesk-uploads
USER stackdesk
EXPOSE 8000
CMD ["gunicorn", "portal.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4", "--keep-alive", "75"]
