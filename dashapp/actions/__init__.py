"""The write side: what users do (job control, uploads), who may do it, and the audit log.

Every action asks `auth.require` first and writes its `audit` entry in its own
transaction; the read side (`dashapp.queries`) never imports from here.
"""
