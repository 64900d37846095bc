"""The list queue consumer: one listing page per message."""
