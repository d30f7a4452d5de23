"""`gunicorn wsgi:server` — configuration comes from the environment (see README)."""

import gc
import sys

from dashapp.app import create_app
from dashapp.config import ConfigError, load_settings
from dashapp.malloc_arenas import limit_malloc_arenas

# Before the worker starts its threads (the image sets MALLOC_ARENA_MAX too).
limit_malloc_arenas()

try:
    settings = load_settings()
except ConfigError as e:
    print(e, file=sys.stderr)
    sys.exit(2)

app = create_app(settings)
server = app.server
# The app, its page registry and every imported module live as long as the worker: keep
# them out of the collector's full passes, which otherwise scan them all and add
# tens of milliseconds to whichever request triggers one.
gc.freeze()
