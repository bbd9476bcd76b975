"""Builds the moderation side of a content replica (bootstrap.py calls it; nothing else does).

Kept apart from bootstrap.py so the composition root stays a list of one-line calls: the
moderation topic and its stores, the moderated views of the posts and interaction stores the
use cases read through, and the ReportService.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import grpc
from aiokafka import AIOKafkaProducer

from planetkit.kafka.admin import require_topics
from planetkit.service_auth_assertion import AssertionSigner
from planetkit.topics import MODERATION, Topic, with_suffix
from services.content.adapters.grpc_moderation import ReportPeersClient, add_reports
from services.content.adapters.moderated_stores import (
    ModeratedInteractions,
    ModeratedPosts,
    RawInteractionStores,
    RawPostStores,
)
from services.content.adapters.moderation_store import ModerationStores
from services.content.adapters.partition_writer import PartitionTransactions
from services.content.moderation import CommentLookups, Moderation, Ownership, PostLookups
from services.content.moderation_copies import IndexStores, ModerationCopies, TopicStores
from services.content.topics import Closing


class ModerationSide:
    """The moderation topic, its stores and the moderated views of one replica."""

    def __init__(self, suffix: str, data_dir: Path, posts_topic: Topic, posts: RawPostStores,
                 interactions: RawInteractionStores) -> None:
        self.topic = with_suffix(MODERATION, suffix)
        if self.topic.partitions != posts_topic.partitions:
            # Co-partitioned by contract: the owner of posts partition p decides p's reports.
            raise ValueError(
                f"{self.topic.name} must have as many partitions as {posts_topic.name}")
        self.stores = ModerationStores(data_dir, self.topic.name)
        self._raw_posts = posts
        self._raw_interactions = interactions
        # What the use cases read: removed posts and comments marked as such.
        self.posts = ModeratedPosts(posts, self.stores)
        self.interactions = ModeratedInteractions(interactions, self.stores)

    async def require(self, bootstrap: str) -> None:
        """Fail the start when the topic is missing or misconfigured."""
        await require_topics(bootstrap, [self.topic])

    def serve(self, server: grpc.aio.Server, producer_for: Callable[[str], AIOKafkaProducer],
              transactional_prefix: str, timeout_s: float, signer: AssertionSigner | None,
              audience: str, forward_timeout_s: float, ownership: Ownership,
              author_posts: str, topic_posts: str, index: IndexStores, topics: TopicStores,
              clock_ms: Callable[[], int]) -> Closing:
        """Serve ReportService on ``server``; the closer of its producers and channels."""
        txns = PartitionTransactions(producer_for, transactional_prefix, "moderation",
                                     timeout_s)
        peers = ReportPeersClient(signer, audience, forward_timeout_s)
        posts: PostLookups = self._raw_posts
        comments: CommentLookups = self._raw_interactions
        moderation = Moderation(
            posts, comments, self.stores, txns, self.topic.name,
            ModerationCopies(author_posts, topic_posts, ownership, index, topics),
            peers, ownership, clock_ms)
        add_reports(server, moderation)
        return Closing(txns.close, peers.close)
