"""`gunicorn wsgi:server` — configuration comes from the environment (see README)."""

import sys

from dashapp.app import create_app
from dashapp.config import ConfigError, load_settings

try:
    settings = load_settings()
except ConfigError as e:
    print(e, file=sys.stderr)
    sys.exit(2)

app = create_app(settings)
server = app.server
