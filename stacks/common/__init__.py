"""Building blocks shared by every system of the suite."""
