"""Ask Around Me: the post_question function."""
