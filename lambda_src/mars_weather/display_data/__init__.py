"""GET /mars: the latest rover photo as a display-ready BMP plus the latest Mars weather.

Modules import each other relatively: at deploy time this package is the asset root's
top-level package and the handler string is ``display_data.handler.handler``.
"""
