# Planet: two commands for a newcomer.
#   make run   - install what is missing, start Kafka and every service, seed demo data
#   make test  - install what is missing, start Kafka, run every check and test layer
PY := $(CURDIR)/.venv/bin/python
SRC := planetkit services gateway simulators devstack bench

.PHONY: run stop test bootstrap kafka proto check-proto proto-breaking lint typecheck imports unit bench bench-settle bench-restart helm-lint clean topics reconcile

run: bootstrap kafka
	$(PY) -m devstack up

stop:
	-[ -x $(PY) ] && $(PY) -m devstack down
	bash scripts/kafka.sh stop

test: bootstrap kafka check-proto proto-breaking lint typecheck imports helm-lint
	$(PY) -m pytest -q

bootstrap:
	@bash scripts/bootstrap.sh

kafka:
	@bash scripts/kafka.sh start

# Every registered topic with its contract (planetkit/topics.py), PLANET_TOPIC_PROFILE (dev
# here; the Helm chart's hook Job uses production), under PLANET_TOPIC_SUFFIX if set.
topics: bootstrap kafka
	$(PY) -m planetkit.kafka.topics_tool create

proto: bootstrap
	PYTHON=$(PY) bash scripts/gen_proto.sh

check-proto: bootstrap
	@PYTHON=$(PY) bash scripts/gen_proto.sh --check

# buf breaking against main (builds buf into .local/bin once); see scripts/proto_breaking.sh.
proto-breaking:
	@bash scripts/proto_breaking.sh

lint: bootstrap
	$(PY) -m ruff check .

typecheck: bootstrap
	$(PY) -m mypy

# Import contracts (pyproject.toml [tool.importlinter]): no service imports another, the
# shared kit imports no service, every domain is pure, layers inside each service.
imports: bootstrap
	$(CURDIR)/.venv/bin/lint-imports

helm-lint:
	bash scripts/helm.sh lint

unit: bootstrap
	$(PY) -m pytest -q tests/unit

bench: bootstrap kafka
	$(PY) -m bench.engagement_throughput
	$(PY) -m bench.settle_week

# Restart times: content at 1 M and 5 M posts of history, the aggregator after weeks of dedup
# history (several minutes: they write the history first).
bench-restart: bootstrap kafka
	$(PY) -m bench.content_restart --posts 1000000,5000000
	$(PY) -m bench.aggregator_restart --weeks 4

bench-settle: bootstrap
	$(PY) -m bench.settle_week

# Reconcile a settled week (make reconcile WEEK=2026-W48): its counted engagement recomputed in
# ClickHouse SQL from the log (chdb in a temporary directory, or the server at CLICKHOUSE_URL),
# compared with the model, and its records checked. Exit 0: no difference, 1: differences.
reconcile: bootstrap
	$(if $(WEEK),,$(error WEEK=YYYY-Www is required, e.g. make reconcile WEEK=2026-W48))
	$(PY) -m services.incentive.reconcile --week $(WEEK)

clean: stop
	rm -rf .local
