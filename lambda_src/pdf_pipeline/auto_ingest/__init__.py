"""The auto-ingest queue consumer: uploads under the prefix into the hour's batch."""
