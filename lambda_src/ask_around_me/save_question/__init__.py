"""Ask Around Me: the save_question function."""
