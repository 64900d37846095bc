"""Ask Around Me: the delete_answer function."""
