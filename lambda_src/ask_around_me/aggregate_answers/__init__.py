"""Ask Around Me: the aggregate_answers function."""
