# The dashboard image: one image, two processes (web by default; `python -m collectors` for the
# collector). Configuration comes from the environment (README, "Configuration").
#
# Sign-in (README, "Sign-in and roles"): the web process binds SMD_HOST (127.0.0.1 unless set).
#   SMD_AUTH_MODE=none   one local user, loopback only: reach it through a tunnel.
#   SMD_AUTH_MODE=oidc   SMD_HOST=0.0.0.0 SMD_PUBLIC_URL=https://… SMD_AUTH_OIDC_DISCOVERY_URL=…
#                        SMD_AUTH_OIDC_CLIENT_ID=… SMD_AUTH_OIDC_CLIENT_SECRET=… SMD_AUTH_ROLE_MAP=…
#   SMD_AUTH_MODE=proxy  SMD_HOST=0.0.0.0 SMD_TRUSTED_PROXIES=<proxy/ALB CIDRs>
#                        (ALB: SMD_AUTH_ALB_SIGNER_ARNS, SMD_AUTH_ALB_ISSUER, SMD_AUTH_ALB_CLIENT_ID)
# Behind a TLS-terminating proxy set FORWARDED_ALLOW_IPS to its addresses so gunicorn trusts
# X-Forwarded-Proto (HTTPS redirect URIs, HSTS).
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
COPY --chown=root:root pages ./pages
COPY --chown=root:root collectors ./collectors
COPY --chown=root:root assets ./assets
COPY --chown=root:root migrations ./migrations
ENV PATH=/venv/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1 \
    SMD_PORT=8050 WEB_CONCURRENCY=2 GUNICORN_THREADS=8 MALLOC_ARENA_MAX=2
USER smd
EXPOSE 8050
HEALTHCHECK --interval=30s --timeout=5s CMD python -c "import urllib.request,os; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"SMD_PORT\"]}/healthz', timeout=4)"
ENTRYPOINT ["/app/docker-entrypoint.sh"]
