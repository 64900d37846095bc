"""The single-page queue consumer: pages into PNG images."""
