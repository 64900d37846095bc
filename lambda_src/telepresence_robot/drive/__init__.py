"""Telepresence robot: the drive function behind ``POST /publish``."""
