"""Lambda functions of the telepresence robot; one self-contained package per function."""
