"""Lambda functions of Ask Around Me; one self-contained package per function."""
