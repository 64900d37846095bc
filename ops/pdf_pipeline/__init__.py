"""``python -m ops.pdf_pipeline``: start batches, watch them, print reports, redrive quarantine."""
