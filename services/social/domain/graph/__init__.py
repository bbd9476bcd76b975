"""The social graph, pure: follow, bell, block and mute rules (``rules``) and how edges,
counters and cursors are laid out in a key-value store (``stored``, ``apply``).

Every edge is its own key on both sides (``f/<follower>/<followee>`` where the follower's
partition keeps it, ``F/<followee>/<follower>`` where the followee's does), and every count a
key of its own changed in the same write batch as the edge, so no value grows with an
audience and a count always equals the number of edges stored.
"""
