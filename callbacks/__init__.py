"""One module per page: `register(app)` wires that page's callbacks.

Callback bodies only gather inputs (database, clock, identity) and hand them to
pure functions, which the tests call directly.
"""
