"""Uploading files into a dataset: names, checks, object keys and the trail, without Flask.

`names` makes a user's file name safe for an S3 key, `sniff` reads a sample of
the file the way the ingest job reads the whole of it, `validate` turns a
request into an accepted upload or one message a non-technical user can act on,
`keys` says where the object lands, and `service` ties these to the database and
S3 (`dashapp.aws.s3_uploads`). The web routes (`dashapp.web.uploads_api`) only wire.
"""
