"""The ingest queue consumer: classification by size and page count."""
