"""One Faust agent per source topic: decode, call a handler, dead-letter what is unreadable."""
