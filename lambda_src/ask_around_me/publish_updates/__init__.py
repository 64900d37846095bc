"""Ask Around Me: the publish_updates function."""
