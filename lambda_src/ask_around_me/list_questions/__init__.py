"""Ask Around Me: the list_questions function."""
