"""The small queue consumer: chunks into one-page PDFs."""
