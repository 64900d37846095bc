"""The open_session function (see the package docstring)."""
