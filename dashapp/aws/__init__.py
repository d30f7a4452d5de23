"""The only package that calls boto3: one module per AWS service, built on `clients.py`."""
