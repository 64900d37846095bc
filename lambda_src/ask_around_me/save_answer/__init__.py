"""Ask Around Me: the save_answer function."""
