"""Content service: posts and their authors, event-sourced on planet.content.posts.v1."""
