"""Code that runs on devices, and the tools that put it there."""
