"""The collector process: the only writer of observed AWS state (`python -m collectors`)."""
