"""Content service: posts and their authors, event-sourced on planet.content.posts.v1.

State that scales out (issue 11):

- A post lives on partition ``murmur2(post id) % 4`` of the posts topic (its key). Each
  replica keeps one RocksDB store per partition it owns under ``PLANET_CONTENT_DATA_DIR``:
  a key per post and per post's author (nothing per creator), and the next offset to read,
  written in the same batch as the posts. The post id is derived from (creator, request
  id), so the post key is also the idempotency index.
- Replicas share the consumer group ``content`` on the posts topic. The group leader
  assigns partitions (balanced, each to the member whose store holds most of it) and puts
  the owner map (partition -> advertised gRPC address) into every member's assignment.
  A request for a post on another replica's partition is forwarded once to its owner,
  signed as ``content`` for the same end user.
- A replica is SERVING only when every partition it owns is caught up to where it ended
  at assignment and every partition has a known owner; NOT_SERVING while rebalancing.
- An author's posts (issue 12, a creator's home page): every post is appended, in one Kafka
  transaction, to its partition of the posts topic and to its author's partition of
  ``planet.content.author-posts.v1`` (same partition count). The assignor gives partition p
  of both topics to one replica, which keeps an index store per partition: one key per
  (author, inverted published time, post id) holding the post, so ``ListAuthorPosts`` is one
  range scan on the owner of murmur2(author id), newest first, cursor-paginated. The
  transactional id is per posts partition, so a new owner fences the previous one. Posts
  appended before the index existed are indexed once by ``python -m services.content.backfill``.
- Restart: each store catches up from its own offset, so start-up time does not grow with
  history. Recovery: the topic is the changelog (content is its single writer, records
  are kept forever). A lost, corrupt or foreign-format store is deleted and rebuilt from
  offset 0 of its partition; to force it, stop the replica and delete its data directory.
"""
