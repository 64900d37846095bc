"""Lambda functions of Ask Around Me: one package per function, plus ``shared`` modules.

Every function is bundled with this whole package (its handler is
``ask_around_me.<function>.handler.handler``) and imports ``shared`` relatively.
"""
