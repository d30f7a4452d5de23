"""Serverless Management Dashboard: the web app, its data model and the AWS sandbox."""
