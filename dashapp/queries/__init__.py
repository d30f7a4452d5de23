"""The read side: every query a page, an export or a health check runs against the database.

Pages never call AWS to render (ARCHITECTURE §2); they read what the collectors
wrote, through this package, so the cost of a wall screen refreshing every few
seconds is a handful of indexed SELECTs. Functions take a `Session` (or `Engine`)
and plain values and return frozen dataclasses, rows or ORM objects, never
components, so pages, exports, `/readyz` and tests share them. Exports
(`dashapp.export`) call into this package; nothing here imports the export side.

Shared SQL pieces (the one LIKE escape, case folding, streaming) live in `sql`.
"""
