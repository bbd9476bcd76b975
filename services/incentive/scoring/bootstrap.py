"""Composition root: the ONLY place that builds the scoring job's clients and clock."""

from __future__ import annotations

import os
import time

from planetkit.clock import now_ms
from planetkit.kafka.admin import TopicContractError, require_topics, wait_for_broker
from planetkit.kafka.producer import make_producer
from planetkit.service_identities import INCENTIVE
from planetkit.topics import (
    CREATOR_WEEKS,
    ESTIMATES,
    INCENTIVE_OPERATIONS,
    INCENTIVE_WEEKS,
    INTERACTION_FACTS,
    ITEM_STATUS,
    PAYOUT_INSTRUCTIONS,
    PAYOUT_STATES,
    PAYOUTS,
    USER_STATUS,
    VIEW_FACTS,
    Topic,
    with_suffix,
)
from services.incentive.scoring.job import JobConfig, JobTopics, ScoringJob
from services.incentive.scoring.log_tail import LogTail
from services.incentive.scoring.settings import ScoringSettings

# The job writes as the incentive service (the registry's writer of the pool's topics); its
# health service answers under this name.
NAME = "incentive-scoring"


def topics_of(settings: ScoringSettings) -> list[Topic]:
    """Every topic the job reads or writes, suffixed for this deployment."""
    suffix = settings.topics.topic_suffix
    return [with_suffix(t, suffix) for t in (
        VIEW_FACTS, INTERACTION_FACTS, USER_STATUS, ITEM_STATUS, INCENTIVE_OPERATIONS,
        INCENTIVE_WEEKS, CREATOR_WEEKS, ESTIMATES, PAYOUT_STATES, PAYOUT_INSTRUCTIONS, PAYOUTS)]


async def build(settings: ScoringSettings) -> ScoringJob:
    """Check the topics against the registry, then wire the job (nothing started yet)."""
    bootstrap = settings.kafka.bootstrap_servers
    await wait_for_broker(bootstrap)
    try:
        await require_topics(bootstrap, topics_of(settings))
    except TopicContractError as exc:
        raise SystemExit(f"{NAME}: {exc}") from None
    topics = JobTopics.named(settings.topics.topic_suffix)
    # One fixed transactional id: starting fences any other instance (its open transaction
    # is aborted, its next write fails and it exits), so one job closes and settles.
    producer = make_producer(bootstrap, writer=INCENTIVE,
                             transactional_id=settings.full_transactional_id(), linger_ms=0)
    pool = topics.pool
    return ScoringJob(
        JobConfig(
            bootstrap=bootstrap,
            quote_asset=settings.quote_asset,
            grace_ms=int(settings.grace_s * 1000),
            early_close_policies=settings.early_close(),
            estimate_interval_ms=int(settings.estimate_interval_s * 1000),
            tick_s=settings.tick_s,
            crash_at=settings.fault_injection,
        ),
        topics,
        producer,
        control=LogTail(bootstrap, [pool.operations, pool.weeks, topics.payout_states,
                                    topics.payouts]),
        facts=LogTail(bootstrap, list(pool.facts)),
        statuses=LogTail(bootstrap, [pool.user_status, pool.item_status]),
        now_ms=now_ms,
        timer=time.perf_counter,
        exit_now=os._exit,
    )
