"""Ask Around Me: the get_heatmap function."""
