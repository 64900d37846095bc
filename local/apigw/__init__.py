"""API Gateway emulation: VTL mapping templates, REST APIs and HTTP APIs run from their templates."""
