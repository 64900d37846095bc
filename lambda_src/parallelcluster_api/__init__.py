"""ParallelCluster API: one Lambda function per operation of the official ParallelCluster 3 API, plus
the operations resource and the 2020 post's legacy ``POST /pcluster`` form.

``models`` (request and response dataclasses), ``schema`` (dataclass -> JSON Schema) and ``routes``
(the single source of truth of the API) are pure standard library, so the CDK stack and
``scripts/export_openapi.py`` import them as well as the functions. ``shared`` holds what the
functions share; every function package (``<function>/handler.py``) is a thin Lambda entry point.
"""
