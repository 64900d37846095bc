"""POST /batches: starts a batch (start_batch.handler)."""
