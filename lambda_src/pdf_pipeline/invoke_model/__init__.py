"""The converted-image queue consumer: page images to the model."""
