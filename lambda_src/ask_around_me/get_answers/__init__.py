"""Ask Around Me: the get_answers function."""
