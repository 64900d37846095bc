"""Ask Around Me: the post_answer function."""
