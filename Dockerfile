# Boleto portal image: one image for web (gunicorn), worker and beat (celery).
#
#   docker build -t boleto-portal .
#   docker run --rm -e SECRET_KEY=... -e DJANGO_ALLOWED_HOSTS=... -e DATABASE_URL=... boleto-portal
#
# Settings module is portal.settings.production: SECRET_KEY and DJANGO_ALLOWED_HOSTS are required
# at run time. The build only ever sees throw-away values for them (compilemessages/collectstatic).
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=portal.settings.production \
    PORTAL_VAR_DIR=/app/var \
    MEDIA_ROOT=/app/var/media \
    WEB_CONCURRENCY=3

# WeasyPrint's system libraries and fonts; gettext provides msgfmt for compilemessages.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 \
        libpangoft2-1.0-0 \
        libharfbuzz-subset0 \
        libharfbuzz0b \
        libfontconfig1 \
        fonts-dejavu-core \
        gettext \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 portal \
    && useradd --system --uid 10001 --gid portal --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin portal

# Dependencies first, from the lock alone, so code edits reuse this layer. requirements/lock.txt
# pins every package (dependencies included) to the version CI tested, with its hashes: nothing
# is resolved afresh at build time, and a package missing from the lock fails the build
# (--require-hashes). The project itself is not installed: it runs from /app.
COPY requirements/lock.txt /tmp/lock.txt
RUN pip install --no-deps --require-hashes -r /tmp/lock.txt && pip check && rm /tmp/lock.txt

WORKDIR /app
# Code stays root-owned and read-only for the app user; only /app/var is writable.
COPY . /app

RUN SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=localhost python manage.py compilemessages \
    && SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=localhost python manage.py collectstatic --noinput \
    && chmod 0755 /app/docker/entrypoint.sh \
    && mkdir -p /app/var/media /app/var/beat \
    && chown -R portal:portal /app/var

USER portal:portal

EXPOSE 8000

ENTRYPOINT ["/app/docker/entrypoint.sh"]
# Workers: gunicorn reads WEB_CONCURRENCY (3 by default, set above; override per deployment).
CMD ["gunicorn", "portal.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--worker-tmp-dir", "/dev/shm", \
     "--access-logfile", "-", \
     "--timeout", "60"]
