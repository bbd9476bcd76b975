"""The API gateway: the one HTTP/WebSocket surface clients talk to."""
