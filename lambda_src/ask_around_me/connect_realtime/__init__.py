"""Ask Around Me: the connect_realtime function."""
