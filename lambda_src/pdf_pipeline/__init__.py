"""PDF pre-processing pipeline: one package for every worker, on Lambda and on Fargate.

Layout (see docs/pdf_pipeline.md):
- ``messages``: the JSON shape of every queue message and audit event (the contract).
- ``settings``: every environment variable a worker reads, in one typed object.
- ``core``: pure PDF work (inspect, classify, split, render, encode PNG), no AWS.
- ``db``: the audit database (SQL migrations, writer, status and report queries).
- ``<function>/``: one Lambda function each (handler thin, logic pure).
- ``worker``: the container host of the large-document splitter and the failsafe.
"""
