# The dashboard image: one image, two processes (web by default; `python -m collectors` for the
# collector). Configuration comes from the environment (README, "Configuration").
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /venv
COPY requirements.txt /tmp/requirements.txt
RUN /venv/bin/pip install -r /tmp/requirements.txt

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin smd
COPY --from=build /venv /venv
WORKDIR /app
COPY --chown=root:root alembic.ini wsgi.py docker-entrypoint.sh ./
COPY --chown=root:root dashapp ./dashapp
COPY --chown=root:root callbacks ./callbacks
COPY --chown=root:root layouts ./layouts
COPY --chown=root:root collectors ./collectors
COPY --chown=root:root assets ./assets
COPY --chown=root:root migrations ./migrations
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    SMD_PORT=8050 WEB_CONCURRENCY=2 GUNICORN_THREADS=8
USER smd
EXPOSE 8050
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"SMD_PORT\"]}/healthz', timeout=4)"
ENTRYPOINT ["/app/docker-entrypoint.sh"]
