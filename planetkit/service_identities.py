"""Who is who: the identities services sign their calls with and write their topics as.

A callee's identity can be renamed in its settings (and the caller's matching setting); a
caller's identity is what the callees' policies name, so it is fixed here. The same names
are the topic registry's writers (planetkit.topics), the envelope's ``source``
(planetkit.envelope.wrap) and what a producer is bound to (planetkit.kafka.producer): one
spelling per service, everywhere.
"""

from __future__ import annotations

GATEWAY = "gateway"
CONTENT = "content"
# The incentive deployable: the scoring processor and the API it serves (never
# "scoring-processor": that older name survives only in topic and group names on disk).
INCENTIVE = "incentive"
ANALYTICS = "analytics"
# Creator identities, handles and account sanctions (services/social).
SOCIAL = "social"
# Writers that hold no service key: the exchange (outside Planet; its simulator and tests
# stand in for it) and the engagement aggregator (it serves no gRPC and calls nothing).
EXCHANGE = "exchange"
ENGAGEMENT_AGGREGATOR = "engagement-aggregator"
# Group chats (services/groups, issue 15): holds a key pair, serves GroupsService to the
# gateway and signs its calls to social (GetProfile: does a creator hold an open identity).
GROUPS = "groups"

# Every service that holds a key pair (devstack and tests generate one for each).
ALL = (GATEWAY, CONTENT, INCENTIVE, ANALYTICS, SOCIAL, GROUPS)
# Every identity that may write a topic or sign an envelope.
WRITERS = (*ALL, EXCHANGE, ENGAGEMENT_AGGREGATOR)
