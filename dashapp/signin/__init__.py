"""Sign-in: who a request comes from, decided once per request before anything else runs.

`gate` checks every request (pages, Dash callbacks, exports, uploads, /metrics) in one
Flask `before_request` and leaves the identity on `flask.g`, where
`dashapp.actions.auth.current_identity` finds it; `require` stays the one authority on
what that identity may do. `sessions` keeps the server-side sessions, `oidc` speaks to
the provider (Authlib), `roles` maps the provider's groups to our roles, `routes` are
the sign-in, callback and sign-out endpoints.
"""
