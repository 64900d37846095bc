"""Modules the Ask Around Me functions share, bundled with every function.

Functions import them relatively (``from ..shared import http``); a module here never
imports a function, and serves at least two. ``http``, ``records``, ``model``,
``timestamps``, ``views`` and ``cells`` are pure (no boto3) and serve the functions'
``logic`` modules; ``handlers`` (Powertools) and ``aws`` (boto3) serve their ``handler``
modules only. A function's ``requirements.txt`` lists what it imports through these too
(``cells`` needs pygeohash; ``handlers`` aws-lambda-powertools).
"""
