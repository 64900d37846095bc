"""Every API of the suite on loopback, built from the synthesized templates: ``python -m local``.

See docs/local.md. The API Gateway emulation (``local.apigw``) is shared with the tests.
"""
