"""Mars weather display: the function behind ``GET /mars`` (see docs/mars_weather.md)."""
