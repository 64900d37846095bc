"""Modules the ParallelCluster API functions share, bundled with every function.

Functions import them relatively (``from ..shared import http``); a module here never imports a
function. Pure (no boto3, no pcluster): ``settings``, ``http``, ``yaml_safety``, ``deadlines``.
boto3, imported lazily: ``aws``, ``ownership``, ``operations``. ``pcluster`` is the only module that
imports ``pcluster.lib`` (lazily, from the ParallelCluster Lambda layer); ``clusters`` composes
them into the API's operations; ``handlers`` wraps Lambda handlers with Powertools.
"""
