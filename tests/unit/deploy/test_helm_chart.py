"""The Helm chart renders the properties SREs rely on (helm template + lint, no cluster)."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from gateway.settings import GatewaySettings
from services.analytics.domain.store import QueryLimits
from services.analytics.settings import AnalyticsSettings, query_limits

ROOT = Path(__file__).resolve().parents[3]
HELM = ROOT / ".local" / "bin" / "helm"
CHART = ROOT / "deploy" / "k8s" / "planet"
CI_VALUES = ROOT / "deploy" / "k8s" / "ci-values.yaml"
# Offline rendering assumes Kubernetes 1.20; the chart's floor is 1.27 (native gRPC probes).
KUBE_VERSION = "1.27.0"
SERVICE_KEY_SECRET = "planet-gateway-service-key"
CONTENT_KEY_SECRET = "planet-content-service-key"
TRUST_SECRET = "planet-service-trust"
PSEUDONYM_SECRET = "planet-analytics-pseudonym-key"
ISSUER = "https://id.exchange.example"
AUDIENCE = "planet-api"
JWKS_URL = "https://id.exchange.example/.well-known/jwks.json"
# Required values the schema refuses when absent (it runs before any template).
SCHEMA_REQUIRED = {
    "kafka.bootstrapServers": "planet-kafka-bootstrap.kafka.svc:9092",
    "gateway.serviceKeySecretName": SERVICE_KEY_SECRET,
    "serviceAuth.trustSecretName": TRUST_SECRET,
}
# Required values whose absence a template refuses, naming the value and what it is.
TEMPLATE_REQUIRED = {
    "gateway.identityProvider.issuer": ISSUER,
    "gateway.identityProvider.audience": AUDIENCE,
    "gateway.identityProvider.jwksUrl": JWKS_URL,
    "analytics.pseudonymKeySecretName": PSEUDONYM_SECRET,
    "content.serviceKeySecretName": CONTENT_KEY_SECRET,
}
REQUIRED = {**SCHEMA_REQUIRED, **TEMPLATE_REQUIRED}
GRPC_PORTS = {"content": 50051, "incentive": 50052, "analytics": 50053, "social": 50058}
SCHEMA_ERROR = "values don't meet the specifications of the schema"

# A developer without Go may skip these; CI (CI=true) installs Helm first and must not.
if not HELM.exists() and os.environ.get("CI") == "true":
    raise RuntimeError(f"{HELM} is absent in CI: 'make test' installs it via scripts/helm.sh")
pytestmark = pytest.mark.skipif(
    not HELM.exists(), reason=f"{HELM} is absent; install it with: scripts/helm.sh install"
)

Doc = dict[str, Any]


def _args(sets: dict[str, str] | None, files: list[Path] | None, required: bool) -> list[str]:
    args = ["--kube-version", KUBE_VERSION]
    for f in files or []:
        args += ["-f", str(f)]
    for key, value in {**(REQUIRED if required else {}), **(sets or {})}.items():
        args += ["--set", f"{key}={value}"]
    return args


def helm_template(
    sets: dict[str, str] | None = None,
    files: list[Path] | None = None,
    *,
    required: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Run `helm template` on the chart; the caller decides whether failure is expected."""
    cmd = [str(HELM), "template", "planet", str(CHART), *_args(sets, files, required)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def render(sets: dict[str, str] | None = None, files: list[Path] | None = None) -> list[Doc]:
    """The rendered objects; fails the test with Helm's message if rendering fails.

    A values file is taken as complete (ci-values.yaml sets every required value itself);
    without one, REQUIRED fills in the values that have no default."""
    result = helm_template(sets, files, required=not files)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def render_error(
    sets: dict[str, str], *, required: bool = True, files: list[Path] | None = None
) -> str:
    """Helm's error for values that must not render."""
    result = helm_template(sets, files, required=required)
    assert result.returncode != 0, f"rendered although it should not: {sets}"
    return result.stderr


def of_kind(docs: list[Doc], kind: str) -> list[Doc]:
    return [d for d in docs if d["kind"] == kind]


def named(docs: list[Doc], kind: str, name: str) -> Doc:
    [doc] = [d for d in of_kind(docs, kind) if d["metadata"]["name"] == name]
    return doc


def workloads(docs: list[Doc]) -> list[Doc]:
    return [d for d in docs if d["kind"] in ("Deployment", "StatefulSet")]


def component(doc: Doc) -> str:
    return str(doc["metadata"]["labels"]["app.kubernetes.io/component"])


def containers(workload: Doc) -> Iterator[Doc]:
    spec = workload["spec"]["template"]["spec"]
    yield from spec.get("initContainers", [])
    yield from spec["containers"]


def env_of(container: Doc) -> dict[str, Doc]:
    return {e["name"]: e for e in container.get("env", [])}


def the_container(docs: list[Doc], kind: str, name: str) -> Doc:
    [container] = named(docs, kind, name)["spec"]["template"]["spec"]["containers"]
    return container


@pytest.fixture(scope="module")
def default_docs() -> list[Doc]:
    return render()


@pytest.fixture(scope="module")
def ci_docs() -> list[Doc]:
    return render(files=[CI_VALUES])


@pytest.fixture(params=["default", "ci"])
def docs(request: pytest.FixtureRequest, default_docs: list[Doc], ci_docs: list[Doc]) -> list[Doc]:
    """Both the default values and the everything-enabled CI values."""
    return default_docs if request.param == "default" else ci_docs


@pytest.mark.parametrize("files", [[], [CI_VALUES]], ids=["default", "ci"])
def test_helm_lint_passes(files: list[Path]) -> None:
    cmd = [str(HELM), "lint", "--strict", str(CHART), *_args(None, files, not files)]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_component_is_deployed_by_default(default_docs: list[Doc]) -> None:
    commands = {" ".join(c["command"]) for w in workloads(default_docs) for c in containers(w)}
    assert commands == {
        "python -m gateway",
        "python -m services.content",
        "python -m services.social",
        "python -m services.incentive",
        "python -m services.incentive.engagement",
        "python -m services.incentive.scoring",
        "python -m services.analytics",
    }


def test_every_workload_runs_hardened(docs: list[Doc]) -> None:
    for w in workloads(docs):
        pod = w["spec"]["template"]["spec"]
        name = w["metadata"]["name"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] != 0, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert pod["automountServiceAccountToken"] is False, name
        assert not pod.get("hostNetwork") and not pod.get("hostPID"), name
        assert all("hostPath" not in v for v in pod.get("volumes", [])), name
        tmp_volumes = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
        for c in containers(w):
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["runAsNonRoot"] is True, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            assert not sc["capabilities"].get("add"), name
            tmp = [m for m in c["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert tmp and tmp[0]["name"] in tmp_volumes, f"{name}: /tmp is not a writable emptyDir"


def test_service_accounts_mount_no_token(docs: list[Doc]) -> None:
    accounts = {sa["metadata"]["name"]: sa for sa in of_kind(docs, "ServiceAccount")}
    for w in workloads(docs):
        account = accounts[w["spec"]["template"]["spec"]["serviceAccountName"]]
        assert account["automountServiceAccountToken"] is False


def test_every_container_has_requests_and_limits(docs: list[Doc]) -> None:
    for w in workloads(docs):
        for c in containers(w):
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c["resources"][bound]), (
                    f"{w['metadata']['name']}: no {bound}"
                )


def test_grpc_services_have_native_grpc_probes(docs: list[Doc]) -> None:
    seen = set()
    for w in workloads(docs):
        name = component(w)
        if name not in GRPC_PORTS:
            continue
        seen.add(name)
        [c] = w["spec"]["template"]["spec"]["containers"]
        ports = {p["name"]: p["containerPort"] for p in c["ports"]}
        assert ports["grpc"] == GRPC_PORTS[name]
        # A service on planetkit.runner is probed on the runner's health port.
        probed = ports.get("health", GRPC_PORTS[name])
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert c[probe]["grpc"]["port"] == probed, f"{name}: {probe}"
    assert seen == set(GRPC_PORTS)


def test_gateway_has_http_probes_liveness_on_healthz_readiness_on_readyz(
    default_docs: list[Doc],
) -> None:
    c = the_container(default_docs, "Deployment", "planet-gateway")
    for probe in ("startupProbe", "livenessProbe"):
        assert c[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"http": 8080}


def test_gateway_config_comes_from_the_release(default_docs: list[Doc]) -> None:
    env = env_of(the_container(default_docs, "Deployment", "planet-gateway"))
    assert env["PLANET_GATEWAY_DEV_MODE"]["value"] == "false"
    assert env["PLANET_GATEWAY_CONTENT_ADDR"]["value"] == "planet-content:50051"
    assert env["PLANET_GATEWAY_INCENTIVE_ADDR"]["value"] == "planet-incentive:50052"
    assert env["PLANET_GATEWAY_SOCIAL_ADDR"]["value"] == "planet-social:50058"
    services = {s["metadata"]["name"]: s for s in of_kind(default_docs, "Service")}
    assert [p["port"] for p in services["planet-content"]["spec"]["ports"]] == [50051]
    assert [p["port"] for p in services["planet-incentive"]["spec"]["ports"]] == [50052]
    assert [p["port"] for p in services["planet-social"]["spec"]["ports"]] == [50058]


@pytest.mark.parametrize(
    ("kind", "name", "prefix"),
    [("StatefulSet", "planet-content", "CONTENT"),
     ("StatefulSet", "planet-incentive", "INCENTIVE"),
     ("StatefulSet", "planet-analytics", "ANALYTICS"),
     ("StatefulSet", "planet-social", "SOCIAL")],
)
def test_grpc_services_listen_in_the_pod_and_verify_callers_from_a_secret(
    default_docs: list[Doc], kind: str, name: str, prefix: str
) -> None:
    workload = named(default_docs, kind, name)
    [container] = workload["spec"]["template"]["spec"]["containers"]
    env = env_of(container)
    # The code binds loopback by default; inside the pod the Service must reach it.
    assert env[f"PLANET_{prefix}_GRPC_HOST"]["value"] == "0.0.0.0"
    trust_file = Path(env["PLANET_SERVICE_AUTH_TRUST_FILE"]["value"])
    [mount] = [m for m in container["volumeMounts"] if m["name"] == "service-auth"]
    assert mount["readOnly"] is True and trust_file.parent == Path(mount["mountPath"])
    [volume] = [v for v in workload["spec"]["template"]["spec"]["volumes"]
                if v["name"] == "service-auth"]
    assert volume["secret"]["secretName"] == TRUST_SECRET
    assert [i["path"] for i in volume["secret"]["items"]] == [trust_file.name]


def test_gateway_signs_calls_with_its_own_key_from_a_secret(default_docs: list[Doc]) -> None:
    workload = named(default_docs, "Deployment", "planet-gateway")
    container = the_container(default_docs, "Deployment", "planet-gateway")
    env = env_of(container)
    assert env["PLANET_GATEWAY_HOST"]["value"] == "0.0.0.0"
    assert env["PLANET_GATEWAY_ANALYTICS_ADDR"]["value"] == "planet-analytics:50053"
    assert 1 <= int(env["PLANET_SERVICE_AUTH_LIFETIME_S"]["value"]) <= 60
    key_file = Path(env["PLANET_SERVICE_AUTH_KEY_FILE"]["value"])
    [mount] = [m for m in container["volumeMounts"] if m["name"] == "service-key"]
    assert mount["readOnly"] is True and key_file.parent == Path(mount["mountPath"])
    [volume] = [v for v in workload["spec"]["template"]["spec"]["volumes"]
                if v["name"] == "service-key"]
    assert volume["secret"]["secretName"] == SERVICE_KEY_SECRET
    assert volume["secret"]["defaultMode"] == 0o440
    # Only callers hold a private key: the gateway, and content (replicas forward to each
    # other); the other services are only called.
    for w in workloads(default_docs):
        if w["metadata"]["name"] not in ("planet-gateway", "planet-content"):
            assert all(v["name"] != "service-key" for v in w["spec"]["template"]["spec"]["volumes"])


def test_service_auth_lifetime_is_bounded() -> None:
    error = render_error({"serviceAuth.assertionLifetimeSeconds": "3600"})
    assert SCHEMA_ERROR in error and "/serviceAuth/assertionLifetimeSeconds" in error


def test_the_chart_creates_no_secret_of_its_own(docs: list[Doc]) -> None:
    # Every credential is an SRE-created Secret the chart only references (unless given
    # clickhouse.url, tested below).
    assert of_kind(docs, "Secret") == []


def test_no_secret_value_appears_in_any_environment(docs: list[Doc]) -> None:
    for w in workloads(docs):
        for c in containers(w):
            for name, var in env_of(c).items():
                credential = name.endswith(("_SECRET", "_PASSWORD", "_TOKEN", "_KEY"))
                if credential or name == "CLICKHOUSE_URL":
                    assert "value" not in var and "secretKeyRef" in var["valueFrom"], name


def test_a_literal_jwt_secret_is_refused() -> None:
    literal = "x" * 48
    error = render_error({"gateway.jwtSecret": literal})
    assert SCHEMA_ERROR in error
    assert literal not in helm_template().stdout


def test_analytics_runs_one_replica_on_chdb(default_docs: list[Doc]) -> None:
    sts = named(default_docs, "StatefulSet", "planet-analytics")
    assert sts["spec"]["replicas"] == 1
    c = the_container(default_docs, "StatefulSet", "planet-analytics")
    env = env_of(c)
    assert "CLICKHOUSE_URL" not in env
    assert env["PLANET_ANALYTICS_CHDB_PATH"]["value"].startswith("/data/")
    assert {"name": "data", "mountPath": "/data"} in c["volumeMounts"]
    [claim] = sts["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    assert not [
        p
        for p in of_kind(default_docs, "PodDisruptionBudget")
        if p["metadata"]["name"] == "planet-analytics"
    ]


def test_chdb_refuses_a_second_replica() -> None:
    error = render_error({"analytics.replicas": "2"})
    assert "analytics.replicas must be 0 or 1" in error and "chdb" in error


def test_analytics_scales_on_a_clickhouse_server() -> None:
    docs = render({"clickhouse.existingSecret": "planet-clickhouse", "analytics.replicas": "3"})
    sts = named(docs, "StatefulSet", "planet-analytics")
    assert sts["spec"]["replicas"] == 3
    assert "volumeClaimTemplates" not in sts["spec"]
    env = env_of(the_container(docs, "StatefulSet", "planet-analytics"))
    assert env["CLICKHOUSE_URL"]["valueFrom"]["secretKeyRef"] == {
        "name": "planet-clickhouse",
        "key": "url",
    }
    assert "PLANET_ANALYTICS_CHDB_PATH" not in env
    named(docs, "PodDisruptionBudget", "planet-analytics")
    assert of_kind(docs, "Secret") == []


def test_a_clickhouse_url_reaches_the_pod_only_through_a_secret() -> None:
    url = "https://analyst:s3cret@clickhouse.example.com:8443"
    docs = render({"clickhouse.url": url})
    secret = named(docs, "Secret", "planet-analytics-clickhouse")
    assert secret["stringData"]["url"] == url
    sts = named(docs, "StatefulSet", "planet-analytics")
    assert url not in yaml.safe_dump(sts)
    env = env_of(the_container(docs, "StatefulSet", "planet-analytics"))
    assert env["CLICKHOUSE_URL"]["valueFrom"]["secretKeyRef"]["name"] == secret["metadata"]["name"]


def _policy_for(docs: list[Doc], name: str) -> Doc:
    [policy] = [
        p
        for p in of_kind(docs, "NetworkPolicy")
        if p["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == name
    ]
    return policy


def _pods_of(name: str) -> Doc:
    return {"podSelector": {"matchLabels": {
        "app.kubernetes.io/name": "planet",
        "app.kubernetes.io/instance": "planet",
        "app.kubernetes.io/component": name,
    }}}


@pytest.mark.parametrize("name", sorted(set(GRPC_PORTS) - {"content", "social"}))
def test_internal_services_admit_only_the_gateway(default_docs: list[Doc], name: str) -> None:
    policy = _policy_for(default_docs, name)
    assert "Ingress" in policy["spec"]["policyTypes"]
    [rule] = policy["spec"]["ingress"]
    assert rule["ports"] == [{"port": GRPC_PORTS[name], "protocol": "TCP"}]
    [peer] = rule["from"]
    assert peer == _pods_of("gateway")
    gateway_pods = named(default_docs, "Deployment", "planet-gateway")["spec"]["template"]
    labels = gateway_pods["metadata"]["labels"]
    assert peer["podSelector"]["matchLabels"].items() <= labels.items()


def test_content_admits_the_gateway_and_its_own_replicas(docs: list[Doc]) -> None:
    """Replicas forward requests for partitions they do not own to the owner's pod IP."""
    policy = _policy_for(docs, "content")
    grpc = [{"port": GRPC_PORTS["content"], "protocol": "TCP"}]
    [rule] = policy["spec"]["ingress"]
    assert rule["ports"] == grpc
    assert rule["from"] == [_pods_of("gateway"), _pods_of("content")]
    assert {"to": [_pods_of("content")], "ports": grpc} in policy["spec"]["egress"]
    pods = named(docs, "StatefulSet", "planet-content")["spec"]["template"]["metadata"]
    assert _pods_of("content")["podSelector"]["matchLabels"].items() <= pods["labels"].items()


def test_aggregator_admits_nothing(docs: list[Doc]) -> None:
    policy = _policy_for(docs, "engagement-aggregator")
    assert "Ingress" in policy["spec"]["policyTypes"]
    assert policy["spec"]["ingress"] == []


def test_every_workload_is_covered_by_a_policy_allowing_dns_and_kafka(docs: list[Doc]) -> None:
    for w in workloads(docs):
        policy = _policy_for(docs, component(w))
        selector = policy["spec"]["podSelector"]["matchLabels"]
        assert selector.items() <= w["spec"]["template"]["metadata"]["labels"].items()
        assert "Egress" in policy["spec"]["policyTypes"]
        egress_ports = {p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]}
        assert {53, 9092} <= egress_ports, w["metadata"]["name"]


def test_gateway_is_the_only_exposed_component(ci_docs: list[Doc]) -> None:
    assert {s["spec"].get("type", "ClusterIP") for s in of_kind(ci_docs, "Service")} == {
        "ClusterIP"
    }
    [ingress] = of_kind(ci_docs, "Ingress")
    backends = {
        p["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for p in rule["http"]["paths"]
    }
    assert backends == {"planet-gateway"}


def test_one_aggregator_per_partition_set(default_docs: list[Doc], ci_docs: list[Doc]) -> None:
    for docs, sets in ((default_docs, ["0,1", "2,3"]), (ci_docs, ["0", "1", "2,3"])):
        aggregators = [w for w in workloads(docs) if component(w) == "engagement-aggregator"]
        owned = sorted(
            env_of(c)["PLANET_AGGREGATOR_PARTITIONS"]["value"]
            for w in aggregators
            for c in containers(w)
        )
        assert owned == sorted(sets)
        assert all(w["spec"]["replicas"] == 1 for w in aggregators)
        selectors = {
            tuple(sorted(w["spec"]["selector"]["matchLabels"].items())) for w in aggregators
        }
        assert len(selectors) == len(aggregators), "two aggregators share a selector"


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        ("{0\\,1,1\\,2\\,3}", "partition 1 is in more than one set"),
        ("{0\\,1,2}", "partition 3 of 4 is in no set"),
        ("{0\\,1,2\\,3\\,4}", "partition 4 does not exist"),
    ],
)
def test_partition_sets_must_own_each_partition_once(sets: str, message: str) -> None:
    assert message in render_error({"aggregator.partitionSets": sets})


# Content is not in this list any more: it is still the posts topic's single writer
# *identity*, but its replicas each write only the partitions the consumer group gave them.
@pytest.mark.parametrize("name", ["incentive", "social"])
def test_single_writers_refuse_a_second_replica(name: str) -> None:
    error = render_error({f"{name}.replicas": "2"})
    assert SCHEMA_ERROR in error and f"/{name}/replicas" in error


def test_pod_disruption_budgets_only_where_replicas_exceed_one(
    default_docs: list[Doc], ci_docs: list[Doc]
) -> None:
    for docs in (default_docs, ci_docs):
        budgets = {p["metadata"]["name"] for p in of_kind(docs, "PodDisruptionBudget")}
        # Under an autoscaler the Deployment has no replica count; its floor is minReplicas.
        floors = {h["spec"]["scaleTargetRef"]["name"]: h["spec"]["minReplicas"]
                  for h in of_kind(docs, "HorizontalPodAutoscaler")}
        many = {
            w["metadata"]["name"]
            for w in workloads(docs)
            if w["spec"].get("replicas", floors.get(w["metadata"]["name"], 0)) > 1
        }
        assert budgets == many
    one_each = render({"gateway.replicas": "1", "content.replicas": "1"})
    assert of_kind(one_each, "PodDisruptionBudget") == []


def test_incentive_state_dir_is_writable(default_docs: list[Doc], ci_docs: list[Doc]) -> None:
    for docs in (default_docs, ci_docs):
        c = the_container(docs, "StatefulSet", "planet-incentive")
        assert env_of(c)["PLANET_INCENTIVE_DATA_DIR"]["value"] == "/data"
        assert {"name": "data", "mountPath": "/data"} in c["volumeMounts"]
    default_volumes = named(default_docs, "StatefulSet", "planet-incentive")["spec"]["template"]
    assert any(v["name"] == "data" and "emptyDir" in v for v in default_volumes["spec"]["volumes"])
    ci_sts = named(ci_docs, "StatefulSet", "planet-incentive")
    assert [t["metadata"]["name"] for t in ci_sts["spec"]["volumeClaimTemplates"]] == ["data"]


def test_every_process_finds_kafka(ci_docs: list[Doc]) -> None:
    for w in workloads(ci_docs):
        env = env_of(next(containers(w)))
        assert env["KAFKA_BOOTSTRAP_SERVERS"]["value"].startswith("planet-kafka-bootstrap.kafka")
        assert env["PLANET_TOPIC_SUFFIX"]["value"] == "ci"


@pytest.mark.parametrize(
    ("sets", "where"),
    [
        ({"gateway.replicas": "many"}, "/gateway/replicas"),
        ({"analytics.resources.limits.memory": "lots"}, "/analytics/resources/limits/memory"),
        ({"kafka.bootstrapServers": "no-port-here"}, "/kafka/bootstrapServers"),
        ({"aggregator.partitionSets": "{0-3}"}, "/aggregator/partitionSets/0"),
        ({"gateway.replica": "3"}, "replica"),
        ({"image.pullPolicy": "Sometimes"}, "/image/pullPolicy"),
    ],
)
def test_schema_rejects_invalid_values(sets: dict[str, str], where: str) -> None:
    error = render_error(sets)
    assert SCHEMA_ERROR in error and where in error


@pytest.mark.parametrize("missing", sorted(SCHEMA_REQUIRED))
def test_required_values_have_no_default(missing: str) -> None:
    present = {k: v for k, v in REQUIRED.items() if k != missing}
    error = render_error(present, required=False)
    assert SCHEMA_ERROR in error and "/" + missing.replace(".", "/") in error


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("gateway", "gateway"),
        ("content", "content"),
        ("social", "social"),
        ("incentive", "incentive"),
        ("aggregator", "engagement-aggregator"),
        ("scoring", "scoring"),
        ("analytics", "analytics"),
    ],
)
def test_each_component_can_be_switched_off(key: str, name: str) -> None:
    sets = {f"{key}.enabled": "false"}
    # What only the switched-off component needs may then be left out.
    if key == "gateway":
        sets |= {k: "" for k in TEMPLATE_REQUIRED if k.startswith("gateway.")}
        sets["gateway.serviceKeySecretName"] = ""
    if key == "analytics":
        sets["analytics.pseudonymKeySecretName"] = ""
    if key == "content":
        sets["content.serviceKeySecretName"] = ""
    docs = render(sets)
    assert [d for d in docs if component(d) == name] == []
    assert {component(w) for w in workloads(docs)} == {
        "gateway",
        "content",
        "social",
        "incentive",
        "engagement-aggregator",
        "scoring",
        "analytics",
    } - {name}


def test_one_scoring_job_with_grpc_probes(docs: list[Doc]) -> None:
    """The scoring job is one pod, replaced by Recreate (its transactional id fences any
    other); readiness asks the whole service, startup and liveness "liveness"."""
    [w] = [w for w in workloads(docs) if component(w) == "scoring"]
    assert w["spec"]["replicas"] == 1 and w["spec"]["strategy"]["type"] == "Recreate"
    [c] = w["spec"]["template"]["spec"]["containers"]
    port = {p["name"]: p["containerPort"] for p in c["ports"]}["health"]
    env = env_of(c)
    assert env["PLANET_SCORING_HEALTH_PORT"]["value"] == str(port)
    assert env["PLANET_SCORING_HEALTH_HOST"]["value"] == "0.0.0.0"
    assert c["readinessProbe"]["grpc"] == {"port": port}
    for probe in ("startupProbe", "livenessProbe"):
        assert c[probe]["grpc"] == {"port": port, "service": "liveness"}, probe


def test_aggregators_have_grpc_readiness_and_liveness_probes(docs: list[Doc]) -> None:
    aggregators = [w for w in workloads(docs) if component(w) == "engagement-aggregator"]
    assert aggregators
    for w in aggregators:
        [c] = w["spec"]["template"]["spec"]["containers"]
        port = {p["name"]: p["containerPort"] for p in c["ports"]}["health"]
        env = env_of(c)
        assert env["PLANET_AGGREGATOR_HEALTH_PORT"]["value"] == str(port)
        assert env["PLANET_AGGREGATOR_HEALTH_HOST"]["value"] == "0.0.0.0"
        # Readiness asks for the whole service (SERVING once restored and positioned);
        # liveness and startup for "liveness", so a long restore is not a restart.
        assert c["readinessProbe"]["grpc"] == {"port": port}
        for probe in ("startupProbe", "livenessProbe"):
            assert c[probe]["grpc"] == {"port": port, "service": "liveness"}, probe


def test_incentive_is_ready_only_when_its_tables_are(docs: list[Doc]) -> None:
    """Readiness on the runner's health port (SERVING once the tables are recovered and
    every partition is held); liveness/startup on "liveness", so recovery is no restart."""
    [w] = [w for w in workloads(docs) if component(w) == "incentive"]
    [c] = w["spec"]["template"]["spec"]["containers"]
    assert c["command"] == ["python", "-m", "services.incentive"]
    port = {p["name"]: p["containerPort"] for p in c["ports"]}["health"]
    env = env_of(c)
    assert env["PLANET_INCENTIVE_HEALTH_PORT"]["value"] == str(port)
    assert env["PLANET_INCENTIVE_HEALTH_HOST"]["value"] == "0.0.0.0"
    grace = int(w["spec"]["template"]["spec"]["terminationGracePeriodSeconds"])
    assert 0 < float(env["PLANET_INCENTIVE_SHUTDOWN_GRACE_S"]["value"]) < grace
    assert c["readinessProbe"]["grpc"] == {"port": port}
    for probe in ("startupProbe", "livenessProbe"):
        assert c[probe]["grpc"] == {"port": port, "service": "liveness"}, probe


def test_analytics_is_ready_only_when_its_store_and_sink_are(docs: list[Doc]) -> None:
    """Readiness on the runner's health port (SERVING once the store is open and migrated
    and the sink has its partitions); liveness/startup on "liveness", so a long migration
    is no restart; its grace ends before the kubelet's SIGKILL."""
    [w] = [w for w in workloads(docs) if component(w) == "analytics"]
    [c] = w["spec"]["template"]["spec"]["containers"]
    assert c["command"] == ["python", "-m", "services.analytics"]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    port = ports["health"]
    assert port != ports["grpc"]
    env = env_of(c)
    assert env["PLANET_ANALYTICS_HEALTH_PORT"]["value"] == str(port)
    assert env["PLANET_ANALYTICS_HEALTH_HOST"]["value"] == "0.0.0.0"
    grace = int(w["spec"]["template"]["spec"]["terminationGracePeriodSeconds"])
    assert 0 < float(env["PLANET_ANALYTICS_SHUTDOWN_GRACE_S"]["value"]) < grace
    assert c["readinessProbe"]["grpc"] == {"port": port}
    for probe in ("startupProbe", "livenessProbe"):
        assert c[probe]["grpc"] == {"port": port, "service": "liveness"}, probe


# --- production mode and the settings the services read -------------------------------------

SETTINGS_OF = {
    "python -m gateway": ("gateway.settings", "GatewaySettings"),
    "python -m services.content": ("services.content.settings", "ContentSettings"),
    "python -m services.social": ("services.social.settings", "SocialSettings"),
    "python -m services.incentive": ("services.incentive.settings", "IncentiveSettings"),
    "python -m services.incentive.engagement": (
        "services.incentive.engagement.settings", "AggregatorSettings"),
    "python -m services.incentive.scoring": (
        "services.incentive.scoring.settings", "ScoringSettings"),
    "python -m services.analytics": ("services.analytics.settings", "AnalyticsSettings"),
}
# Settings a process loads beside its own (none left: each nests what it reads).
ALSO_LOADED: dict[str, tuple[type[BaseSettings], ...]] = {}
# What a Secret would hold, for loading settings from a rendered pod's environment.
SECRET_STANDINS = {
    "PLANET_ANALYTICS_PSEUDONYM_KEY": "k" * 48,
    "CLICKHOUSE_URL": "https://clickhouse.example:8443",
}
# What the downward API would give, by field path.
FIELD_STANDINS = {"status.podIP": "10.42.3.17"}
GATEWAY_DEV_ONLY = ("PLANET_GATEWAY_DEV_MODE", "PLANET_GATEWAY_JWT_SECRET")


def settings_class(command: str) -> type[BaseSettings]:
    module, name = SETTINGS_OF[command]
    cls: type[BaseSettings] = getattr(importlib.import_module(module), name)
    return cls


def env_names(cls: type[BaseSettings]) -> set[str]:
    """Every environment variable a settings class (and the settings nested in it) reads."""
    prefix = str(cls.model_config.get("env_prefix", "")).upper()
    names: set[str] = set()
    for field_name, field in cls.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseSettings):
            names |= env_names(kind)  # a nested settings object reads its own prefix
            continue
        names.add(prefix + field_name.upper())
        if isinstance(field.validation_alias, AliasChoices):
            names |= {str(a).upper() for a in field.validation_alias.choices}
    return names


def pod_environment(container: Doc) -> dict[str, str]:
    """The container's environment as the kubelet would build it, Secrets and the downward
    API stood in for; $(NAME) expands to a variable defined earlier in the list."""
    env: dict[str, str] = {}

    def expand(match: re.Match[str]) -> str:
        return env.get(match.group(1), match.group(0))

    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", expand, str(var["value"]))
        elif "fieldRef" in var["valueFrom"]:
            env[var["name"]] = FIELD_STANDINS[var["valueFrom"]["fieldRef"]["fieldPath"]]
        else:
            assert "secretKeyRef" in var["valueFrom"], var["name"]
            env[var["name"]] = SECRET_STANDINS[var["name"]]
    return env


def load_from_pod(
    monkeypatch: pytest.MonkeyPatch, container: Doc
) -> tuple[BaseSettings, dict[str, str]]:
    """The service's real settings class, loaded from nothing but the pod's environment."""
    for name in list(os.environ):
        if name.startswith(("PLANET_", "KAFKA_", "CLICKHOUSE_")):
            monkeypatch.delenv(name)
    env = pod_environment(container)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return settings_class(" ".join(container["command"]))(), env


def test_every_service_starts_from_the_chart_environment(
    docs: list[Doc], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each process's own settings validation (required values, the gateway's one-mode rule)
    passes on what the chart sets, and every variable the chart sets is one it reads."""
    for w in workloads(docs):
        for c in containers(w):
            settings, env = load_from_pod(monkeypatch, c)
            command = " ".join(c["command"])
            also = ALSO_LOADED.get(command, ())
            for extra in also:
                extra()
            read = set().union(env_names(type(settings)), *(env_names(e) for e in also))
            unknown = {n for n in env if n.startswith("PLANET_")} - read
            assert not unknown, f"{w['metadata']['name']} sets what nobody reads: {unknown}"
            auth = getattr(settings, "auth", None)
            if command in ("python -m services.content", "python -m services.social",
                           "python -m services.incentive", "python -m services.analytics"):
                # A callee without a trust file refuses to start (planetkit.service_auth_server).
                assert auth is not None and auth.trust_file is not None, command
                assert settings.model_dump()["grpc_host"] == "0.0.0.0", command


def test_gateway_runs_in_production_mode(docs: list[Doc], monkeypatch: pytest.MonkeyPatch) -> None:
    container = the_container(docs, "Deployment", "planet-gateway")
    env = env_of(container)
    assert env["PLANET_GATEWAY_DEV_MODE"]["value"] == "false"
    assert not any(name in env for name in GATEWAY_DEV_ONLY[1:])
    assert env["PLANET_GATEWAY_JWT_ISSUER"]["value"] == ISSUER
    assert env["PLANET_GATEWAY_JWT_AUDIENCE"]["value"] == AUDIENCE
    settings, _ = load_from_pod(monkeypatch, container)
    assert isinstance(settings, GatewaySettings)
    assert settings.dev_mode is False and settings.jwt_secret is None
    assert settings.jwt_issuer == ISSUER and settings.jwt_audience == AUDIENCE
    assert set(settings.jwt_algorithms) <= {"RS256", "ES256"}
    assert settings.service_auth.key_file is not None
    assert bool(settings.jwks_url) != bool(settings.jwks_file)


def test_default_render_fetches_the_jwks_over_https_and_may_reach_it(
    default_docs: list[Doc],
) -> None:
    env = env_of(the_container(default_docs, "Deployment", "planet-gateway"))
    assert env["PLANET_GATEWAY_JWKS_URL"]["value"] == JWKS_URL
    assert "PLANET_GATEWAY_JWKS_FILE" not in env
    egress = _policy_for(default_docs, "gateway")["spec"]["egress"]
    assert any(p == {"port": 443, "protocol": "TCP"} for rule in egress for p in rule["ports"])


@pytest.mark.parametrize("source", ["configMap", "secret"])
def test_a_jwks_file_is_mounted_from_a_config_map_or_secret(source: str) -> None:
    key = "jwks.json"
    if source == "configMap":
        docs = render({"gateway.identityProvider.jwksUrl": "",
                       "gateway.identityProvider.jwksConfigMapName": "idp-jwks"})
    else:
        docs = render({"gateway.identityProvider.jwksUrl": "",
                       "gateway.identityProvider.jwksSecretName": "idp-jwks"})
    workload = named(docs, "Deployment", "planet-gateway")
    container = the_container(docs, "Deployment", "planet-gateway")
    env = env_of(container)
    assert "PLANET_GATEWAY_JWKS_URL" not in env
    jwks_file = Path(env["PLANET_GATEWAY_JWKS_FILE"]["value"])
    [mount] = [m for m in container["volumeMounts"] if m["name"] == "jwks"]
    # No subPath, so a rotated key set reaches the running pod.
    assert mount["readOnly"] is True and "subPath" not in mount
    assert jwks_file.parent == Path(mount["mountPath"])
    [volume] = [v for v in workload["spec"]["template"]["spec"]["volumes"] if v["name"] == "jwks"]
    ref = volume[source]
    assert ref.get("name", ref.get("secretName")) == "idp-jwks"
    assert ref["items"] == [{"key": key, "path": jwks_file.name}]
    # No JWKS URL, so no egress to an identity provider.
    egress = _policy_for(docs, "gateway")["spec"]["egress"]
    assert all(p["port"] != 443 for rule in egress for p in rule["ports"])


@pytest.mark.parametrize(
    ("missing", "message"),
    [
        ("gateway.identityProvider.issuer", "gateway.identityProvider.issuer is required"),
        ("gateway.identityProvider.audience", "gateway.identityProvider.audience is required"),
        ("gateway.identityProvider.jwksUrl", "set exactly one of gateway.identityProvider.jwksUrl"),
        ("analytics.pseudonymKeySecretName", "analytics.pseudonymKeySecretName is required"),
        ("content.serviceKeySecretName", "content.serviceKeySecretName is required"),
    ],
)
def test_each_new_required_value_fails_with_its_message(missing: str, message: str) -> None:
    present = {k: v for k, v in REQUIRED.items() if k != missing}
    assert message in render_error(present, required=False)


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        ({"gateway.identityProvider.jwksSecretName": "idp-jwks"}, "set exactly one of"),
        ({"gateway.identityProvider.jwksUrl": "http://id.exchange.example/jwks.json"},
         "must be an https URL"),
        ({"gateway.identityProvider.jwksUrl": "https:///jwks.json"}, "must be an https URL"),
        ({"gateway.extraEnv[0].name": "PLANET_GATEWAY_DEV_MODE",
          "gateway.extraEnv[0].value": "true"}, "may not set PLANET_GATEWAY_DEV_MODE"),
        ({"gateway.extraEnv[0].name": "PLANET_GATEWAY_JWT_SECRET",
          "gateway.extraEnv[0].value": "x" * 48}, "may not set PLANET_GATEWAY_JWT_SECRET"),
        ({"gateway.ingress.enabled": "true"}, "gateway.trustedProxies is required"),
        ({"gateway.autoscaling.enabled": "true", "gateway.autoscaling.minReplicas": "5",
          "gateway.autoscaling.maxReplicas": "3"}, "minReplicas (5) exceeds maxReplicas (3)"),
    ],
)
def test_gateway_refuses_what_would_not_run_safely(sets: dict[str, str], message: str) -> None:
    assert message in render_error(sets)


@pytest.mark.parametrize("key", ["gateway.jwtSecretName", "gateway.jwtSecretKey"])
def test_the_dev_mode_jwt_secret_is_gone_from_the_chart(key: str) -> None:
    error = render_error({key: "planet-gateway-jwt"})
    assert SCHEMA_ERROR in error and key.rsplit(".", 1)[1] in error


def test_hs256_is_not_an_algorithm_the_chart_accepts() -> None:
    error = render_error({"gateway.identityProvider.algorithms": "{HS256}"})
    assert SCHEMA_ERROR in error and "/gateway/identityProvider/algorithms/0" in error


def _rate_replicas(docs: list[Doc]) -> int:
    env = env_of(the_container(docs, "Deployment", "planet-gateway"))
    return int(env["PLANET_GATEWAY_RATE_LIMIT_REPLICAS"]["value"])


@pytest.mark.parametrize(("replicas", "expected"), [("0", 1), ("1", 1), ("2", 2), ("5", 5)])
def test_rate_limits_are_split_between_the_replicas(replicas: str, expected: int) -> None:
    docs = render({"gateway.replicas": replicas})
    assert named(docs, "Deployment", "planet-gateway")["spec"]["replicas"] == int(replicas)
    assert of_kind(docs, "HorizontalPodAutoscaler") == []
    assert _rate_replicas(docs) == expected


def test_under_an_autoscaler_rate_limits_are_split_by_its_maximum() -> None:
    docs = render({"gateway.replicas": "2", "gateway.autoscaling.enabled": "true",
                   "gateway.autoscaling.minReplicas": "3", "gateway.autoscaling.maxReplicas": "7"})
    deployment = named(docs, "Deployment", "planet-gateway")
    assert "replicas" not in deployment["spec"]  # the HPA owns the count
    [hpa] = of_kind(docs, "HorizontalPodAutoscaler")
    assert hpa["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1", "kind": "Deployment", "name": "planet-gateway"}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 7)
    assert _rate_replicas(docs) == 7
    named(docs, "PodDisruptionBudget", "planet-gateway")


def test_ci_values_autoscale_the_gateway(ci_docs: list[Doc]) -> None:
    [hpa] = of_kind(ci_docs, "HorizontalPodAutoscaler")
    assert _rate_replicas(ci_docs) == hpa["spec"]["maxReplicas"]


def test_rate_limits_and_trusted_proxies_come_from_values(
    ci_docs: list[Doc], monkeypatch: pytest.MonkeyPatch
) -> None:
    values = yaml.safe_load(CI_VALUES.read_text())["gateway"]
    settings, _ = load_from_pod(monkeypatch, the_container(ci_docs, "Deployment", "planet-gateway"))
    assert isinstance(settings, GatewaySettings)
    assert settings.trusted_proxies == values["trustedProxies"]
    limits = values["rateLimits"]
    assert settings.rate_user_writes_per_minute == limits["userWritesPerMinute"]
    assert settings.rate_ip_writes_per_minute == limits["ipWritesPerMinute"]
    assert settings.rate_ip_token_uses_per_minute == limits["ipTokenUsesPerMinute"]
    assert settings.rate_limit_max_keys == limits["maxKeys"]
    assert settings.jwt_max_lifetime_s == values["identityProvider"]["maxTokenLifetimeSeconds"]
    assert settings.jwt_algorithms == values["identityProvider"]["algorithms"]


def test_without_proxies_no_forwarded_header_is_believed(default_docs: list[Doc]) -> None:
    env = env_of(the_container(default_docs, "Deployment", "planet-gateway"))
    assert json.loads(env["PLANET_GATEWAY_TRUSTED_PROXIES"]["value"]) == []


# --- analytics: pseudonym key and query limits ------------------------------------------------

def test_analytics_pseudonym_key_comes_from_a_secret(docs: list[Doc]) -> None:
    env = env_of(the_container(docs, "StatefulSet", "planet-analytics"))
    key = env["PLANET_ANALYTICS_PSEUDONYM_KEY"]
    assert "value" not in key
    assert key["valueFrom"]["secretKeyRef"] == {"name": PSEUDONYM_SECRET, "key": "pseudonym-key"}


def test_analytics_query_limits_come_from_values(
    ci_docs: list[Doc], monkeypatch: pytest.MonkeyPatch
) -> None:
    query = yaml.safe_load(CI_VALUES.read_text())["analytics"]["query"]
    settings, _ = load_from_pod(
        monkeypatch, the_container(ci_docs, "StatefulSet", "planet-analytics"))
    assert isinstance(settings, AnalyticsSettings)
    assert settings.query_workers == query["workers"]
    assert settings.audit_timeout_s == query["auditTimeoutSeconds"]
    assert query_limits(settings) == QueryLimits(
        max_execution_time_s=query["timeoutSeconds"],
        max_memory_bytes=query["maxMemoryBytes"],
        max_rows_to_read=query["maxRowsToRead"],
        max_bytes_to_read=query["maxBytesToRead"],
        max_result_rows=query["maxResultRows"],
        max_result_bytes=query["maxResultBytes"],
    )
    # The gateway waits a little longer than the engine's own time limit.
    gateway = env_of(the_container(ci_docs, "Deployment", "planet-gateway"))
    assert float(gateway["PLANET_GATEWAY_ANALYTICS_TIMEOUT_S"]["value"]) > query["timeoutSeconds"]


@pytest.mark.parametrize(
    ("memory", "fits"), [("1Gi", False), ("1.5Gi", True), ("1400M", False), ("1500M", True),
                         ("2147483648", True)],
)
def test_concurrent_analyst_queries_must_fit_the_embedded_engine(memory: str, fits: bool) -> None:
    # Defaults: 2 workers x 512 MiB = 1 GiB, allowed up to 75% of the limit.
    sets = {"analytics.resources.limits.memory": memory}
    if fits:
        render(sets)
    else:
        error = render_error(sets)
        assert "exceeds 75% of analytics.resources.limits.memory" in error
    # On a ClickHouse server the queries use the server's memory, not the pod's.
    render({**sets, "clickhouse.existingSecret": "planet-clickhouse"})


def test_every_workload_has_readiness_and_liveness_probes(docs: list[Doc]) -> None:
    for w in workloads(docs):
        for c in w["spec"]["template"]["spec"]["containers"]:
            grpc_health = component(w) != "gateway"  # every process but the HTTP gateway
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                assert ("grpc" if grpc_health else "httpGet") in c[probe], (component(w), probe)


def _topics_job(docs: list[Doc]) -> Doc:
    return named(docs, "Job", "planet-topics")


def test_a_hook_job_creates_the_topics_before_install_and_upgrade(docs: list[Doc]) -> None:
    job = _topics_job(docs)
    hooks = job["metadata"]["annotations"]
    assert hooks["helm.sh/hook"] == "pre-install,pre-upgrade"
    [container] = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python", "-m", "planetkit.kafka.topics_tool", "create"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
    # Its ServiceAccount and NetworkPolicy are hooks too, made before it (a first install
    # has none of the release's objects yet).
    for kind in ("ServiceAccount", "NetworkPolicy"):
        before = named(docs, kind, "planet-topics")["metadata"]["annotations"]
        assert before["helm.sh/hook"] == hooks["helm.sh/hook"], kind
        assert int(before["helm.sh/hook-weight"]) < int(hooks["helm.sh/hook-weight"]), kind
    assert named(docs, "ServiceAccount", "planet-topics")["automountServiceAccountToken"] is False
    policy = named(docs, "NetworkPolicy", "planet-topics")
    assert policy["spec"]["ingress"] == []
    assert {53, 9092} <= {p["port"] for rule in policy["spec"]["egress"] for p in rule["ports"]}


def test_the_topics_job_runs_as_hardened_as_every_other_pod(docs: list[Doc]) -> None:
    job = _topics_job(docs)["spec"]["template"]["spec"]
    gateway = named(docs, "Deployment", "planet-gateway")["spec"]["template"]["spec"]
    assert job["securityContext"] == gateway["securityContext"]
    assert job["automountServiceAccountToken"] is False
    [container] = job["containers"]
    assert container["securityContext"] == gateway["containers"][0]["securityContext"]
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    tmp = {v["name"] for v in job["volumes"] if "emptyDir" in v}
    assert next(m["name"] for m in container["volumeMounts"] if m["mountPath"] == "/tmp") in tmp


def test_the_topics_job_uses_the_production_profile_and_reads_what_it_is_given(
    docs: list[Doc], monkeypatch: pytest.MonkeyPatch
) -> None:
    from planetkit.settings import KafkaSettings, TopicSettings
    from planetkit.topics import PRODUCTION, profile_named

    [container] = _topics_job(docs)["spec"]["template"]["spec"]["containers"]
    for name in list(os.environ):
        if name.startswith(("PLANET_", "KAFKA_")):
            monkeypatch.delenv(name)
    env = pod_environment(container)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    topics = TopicSettings()
    assert profile_named(topics.topic_profile) is PRODUCTION
    assert KafkaSettings().bootstrap_servers == env["KAFKA_BOOTSTRAP_SERVERS"]
    read = env_names(TopicSettings) | env_names(KafkaSettings)
    assert not {n for n in env if n.startswith("PLANET_")} - read


def test_every_process_creates_what_it_creates_with_the_release_profile(
    docs: list[Doc]
) -> None:
    # The incentive service creates its own Faust changelogs: they get the same replication.
    for w in [*workloads(docs), _topics_job(docs)]:
        for c in containers(w):
            assert env_of(c)["PLANET_TOPIC_PROFILE"]["value"] == "production", c["name"]


def test_the_topics_profile_and_job_come_from_values() -> None:
    docs = render({"topics.profile": "dev"})
    env = env_of(_topics_job(docs)["spec"]["template"]["spec"]["containers"][0])
    assert env["PLANET_TOPIC_PROFILE"]["value"] == "dev"
    assert "/topics/profile" in render_error({"topics.profile": "prod"})
    off = render({"topics.job.enabled": "false"})
    assert not [d for d in off if d["metadata"]["name"] == "planet-topics"]


# --- content: replicas that share the posts topic's partitions --------------------------------

def _content(docs: list[Doc]) -> tuple[Doc, Doc]:
    sts = named(docs, "StatefulSet", "planet-content")
    [container] = sts["spec"]["template"]["spec"]["containers"]
    return sts, container


def test_content_is_a_stateful_set_with_a_volume_per_replica(
    default_docs: list[Doc], ci_docs: list[Doc]
) -> None:
    """Each replica's partition stores survive a restart on its own claim, so it catches up
    from its stored offsets instead of offset 0."""
    assert not [d for d in of_kind(default_docs, "Deployment") if component(d) == "content"]
    for docs, storage, storage_class in ((default_docs, "10Gi", None),
                                         (ci_docs, "5Gi", "fast-ssd")):
        sts, c = _content(docs)
        assert sts["spec"]["serviceName"] == "planet-content-headless"
        headless = named(docs, "Service", "planet-content-headless")
        assert headless["spec"]["clusterIP"] == "None"
        env = env_of(c)
        data_dir = Path(env["PLANET_CONTENT_DATA_DIR"]["value"])
        [mount] = [m for m in c["volumeMounts"] if m["name"] == "data"]
        assert Path(mount["mountPath"]) == data_dir and not mount.get("readOnly")
        [claim] = sts["spec"]["volumeClaimTemplates"]
        assert claim["metadata"]["name"] == "data"
        assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
        assert claim["spec"]["resources"]["requests"]["storage"] == storage
        assert claim["spec"].get("storageClassName") == storage_class
        # The claim is the data volume; no pod volume shadows it.
        assert all(v["name"] != "data" for v in sts["spec"]["template"]["spec"]["volumes"])


def test_content_without_persistence_rebuilds_from_the_topic_on_an_empty_dir() -> None:
    sts, c = _content(render({"content.persistence.enabled": "false"}))
    assert "volumeClaimTemplates" not in sts["spec"]
    [volume] = [v for v in sts["spec"]["template"]["spec"]["volumes"] if v["name"] == "data"]
    assert "emptyDir" in volume
    assert {"name": "data", "mountPath": env_of(c)["PLANET_CONTENT_DATA_DIR"]["value"]} in (
        c["volumeMounts"])


@pytest.mark.parametrize("replicas", ["1", "2", "5"])
def test_content_runs_any_number_of_replicas(replicas: str) -> None:
    docs = render({"content.replicas": replicas})
    sts, _ = _content(docs)
    assert sts["spec"]["replicas"] == int(replicas)
    # Ordinal order means nothing to the group: start together, one rebalance.
    assert sts["spec"]["podManagementPolicy"] == "Parallel"
    budgets = [p for p in of_kind(docs, "PodDisruptionBudget") if component(p) == "content"]
    assert len(budgets) == (int(replicas) > 1)
    if budgets:
        assert budgets[0]["spec"]["maxUnavailable"] == 1


def test_content_runs_two_replicas_by_default(default_docs: list[Doc]) -> None:
    sts, _ = _content(default_docs)
    assert sts["spec"]["replicas"] == 2
    named(default_docs, "PodDisruptionBudget", "planet-content")


def test_content_advertises_its_pod_ip_to_its_peers(
    docs: list[Doc], monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.content.settings import ContentSettings

    _, c = _content(docs)
    env = env_of(c)
    assert env["POD_IP"]["valueFrom"] == {"fieldRef": {"fieldPath": "status.podIP"}}
    names = [e["name"] for e in c["env"]]
    # The kubelet expands $(POD_IP) only from a variable defined before it.
    assert names.index("POD_IP") < names.index("PLANET_CONTENT_ADVERTISED_ADDR")
    settings, _ = load_from_pod(monkeypatch, c)
    assert isinstance(settings, ContentSettings)
    grpc_port = {p["name"]: p["containerPort"] for p in c["ports"]}["grpc"]
    assert settings.advertised_addr == f"{FIELD_STANDINS['status.podIP']}:{grpc_port}"
    assert settings.grpc_port == grpc_port


def test_content_is_ready_only_when_its_partitions_are(docs: list[Doc]) -> None:
    """Readiness on the runner's health port (SERVING once every owned partition is caught
    up and every partition has an owner); liveness/startup on "liveness", so catching up
    after a rebalance is no restart; its grace ends before the kubelet's SIGKILL."""
    sts, c = _content(docs)
    assert c["command"] == ["python", "-m", "services.content"]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    port = ports["health"]
    assert port != ports["grpc"]
    env = env_of(c)
    assert env["PLANET_CONTENT_HEALTH_PORT"]["value"] == str(port)
    assert env["PLANET_CONTENT_HEALTH_HOST"]["value"] == "0.0.0.0"
    grace = int(sts["spec"]["template"]["spec"]["terminationGracePeriodSeconds"])
    assert 0 < float(env["PLANET_CONTENT_SHUTDOWN_GRACE_S"]["value"]) < grace
    assert c["readinessProbe"]["grpc"] == {"port": port}
    for probe in ("startupProbe", "livenessProbe"):
        assert c[probe]["grpc"] == {"port": port, "service": "liveness"}, probe


def test_content_signs_forwarded_calls_with_its_own_key_from_a_secret(
    docs: list[Doc], monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.content.settings import ContentSettings

    sts, c = _content(docs)
    env = env_of(c)
    key_file = Path(env["PLANET_SERVICE_AUTH_KEY_FILE"]["value"])
    [mount] = [m for m in c["volumeMounts"] if m["name"] == "service-key"]
    assert mount["readOnly"] is True and key_file.parent == Path(mount["mountPath"])
    [volume] = [v for v in sts["spec"]["template"]["spec"]["volumes"] if v["name"] == "service-key"]
    assert volume["secret"]["secretName"] == CONTENT_KEY_SECRET
    assert volume["secret"]["defaultMode"] == 0o440
    assert volume["secret"]["items"] == [{"key": "key.json", "path": key_file.name}]
    # Its own key, never the gateway's.
    assert volume["secret"]["secretName"] != SERVICE_KEY_SECRET
    settings, _ = load_from_pod(monkeypatch, c)
    assert isinstance(settings, ContentSettings)
    assert settings.auth.key_file == key_file and settings.auth.trust_file is not None


def test_content_group_and_store_settings_come_from_values(
    ci_docs: list[Doc], monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.content.settings import ContentSettings

    values = yaml.safe_load(CI_VALUES.read_text())["content"]
    settings, _ = load_from_pod(monkeypatch, _content(ci_docs)[1])
    assert isinstance(settings, ContentSettings)
    assert settings.session_timeout_ms == values["sessionTimeoutMs"]
    assert settings.data_dir is not None and settings.data_dir.is_absolute()
    # The group is suffixed like the topics, so two stacks on one cluster never share it.
    assert settings.group() == "content-ci"


def test_content_session_timeout_is_bounded() -> None:
    error = render_error({"content.sessionTimeoutMs": "10"})
    assert SCHEMA_ERROR in error and "/content/sessionTimeoutMs" in error


# --- incentive: the pool's quote asset --------------------------------------------------------

def test_incentive_quote_asset_comes_from_values(
    default_docs: list[Doc], ci_docs: list[Doc], monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.incentive.settings import IncentiveSettings

    for docs, asset in ((default_docs, "USDT"), (ci_docs, "USDC")):
        c = the_container(docs, "StatefulSet", "planet-incentive")
        settings, _ = load_from_pod(monkeypatch, c)
        assert isinstance(settings, IncentiveSettings)
        assert settings.quote_asset == asset
    error = render_error({"incentive.quoteAsset": "usdt"})
    assert SCHEMA_ERROR in error and "/incentive/quoteAsset" in error


# --- social: the single transactional writer content asks before every publish --------------

def _social(docs: list[Doc]) -> tuple[Doc, Doc]:
    sts = named(docs, "StatefulSet", "planet-social")
    [container] = sts["spec"]["template"]["spec"]["containers"]
    return sts, container


def test_social_runs_exactly_one_replica_and_never_two_at_once(docs: list[Doc]) -> None:
    """A second instance under the same transactional id fences the first: one pod, in a
    StatefulSet (no surge pod during an update), and no PDB (nothing to keep available)."""
    sts, c = _social(docs)
    assert c["command"] == ["python", "-m", "services.social"]
    assert sts["spec"]["replicas"] == 1
    assert sts["spec"]["podManagementPolicy"] == "OrderedReady"
    assert not [d for d in of_kind(docs, "Deployment") if component(d) == "social"]
    assert not [p for p in of_kind(docs, "PodDisruptionBudget") if component(p) == "social"]
    assert render({"social.replicas": "0"})  # paused is allowed
    error = render_error({"social.replicas": "2"})
    assert SCHEMA_ERROR in error and "/social/replicas" in error


def test_social_is_ready_only_when_its_stores_are(docs: list[Doc]) -> None:
    """Readiness on the runner's health port asks for "" (SERVING once the stores caught up
    with the topics); startup and liveness for "liveness", so a rebuild is no restart."""
    sts, c = _social(docs)
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports == {"grpc": 50058, "health": 50062}
    env = env_of(c)
    assert env["PLANET_SOCIAL_HEALTH_PORT"]["value"] == "50062"
    assert env["PLANET_SOCIAL_HEALTH_HOST"]["value"] == "0.0.0.0"
    assert c["readinessProbe"]["grpc"] == {"port": 50062}
    for probe in ("startupProbe", "livenessProbe"):
        assert c[probe]["grpc"] == {"port": 50062, "service": "liveness"}, probe
    grace = int(sts["spec"]["template"]["spec"]["terminationGracePeriodSeconds"])
    assert 0 < float(env["PLANET_SOCIAL_SHUTDOWN_GRACE_S"]["value"]) < grace


def test_social_keeps_its_stores_on_a_claim_and_verifies_callers_only(
    default_docs: list[Doc], ci_docs: list[Doc], monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.social.settings import SocialSettings

    ci = yaml.safe_load(CI_VALUES.read_text())["social"]
    for docs, storage, storage_class, days in ((default_docs, "5Gi", None, 30),
                                               (ci_docs, "2Gi", "fast-ssd", 45)):
        sts, c = _social(docs)
        settings, _ = load_from_pod(monkeypatch, c)
        assert isinstance(settings, SocialSettings)
        assert settings.grpc_port == 50058 and settings.health_port == 50062
        assert settings.data_dir is not None and settings.data_dir.is_absolute()
        [mount] = [m for m in c["volumeMounts"] if m["name"] == "data"]
        assert Path(mount["mountPath"]) == settings.data_dir and not mount.get("readOnly")
        [claim] = sts["spec"]["volumeClaimTemplates"]
        assert claim["metadata"]["name"] == "data"
        assert claim["spec"]["resources"]["requests"]["storage"] == storage
        assert claim["spec"].get("storageClassName") == storage_class
        assert settings.handle_reservation_days == days
        # Social calls nobody: a trust file to verify the gateway and content, no key.
        assert settings.auth.trust_file is not None and settings.auth.key_file is None
        volumes = sts["spec"]["template"]["spec"]["volumes"]
        assert all(v["name"] != "service-key" for v in volumes)
        assert all(v["name"] != "data" for v in volumes)
    assert ci["handleReservationDays"] == 45
    # The transactional id is suffixed like the topics: two stacks never fence each other.
    settings, _ = load_from_pod(monkeypatch, _social(ci_docs)[1])
    assert isinstance(settings, SocialSettings)
    assert settings.transactional() == "social-ci"


def test_social_without_persistence_rebuilds_from_the_topics_on_an_empty_dir() -> None:
    sts, c = _social(render({"social.persistence.enabled": "false"}))
    assert "volumeClaimTemplates" not in sts["spec"]
    [volume] = [v for v in sts["spec"]["template"]["spec"]["volumes"] if v["name"] == "data"]
    assert "emptyDir" in volume
    assert {"name": "data", "mountPath": env_of(c)["PLANET_SOCIAL_DATA_DIR"]["value"]} in (
        c["volumeMounts"])


def test_social_admits_the_gateway_content_and_groups_and_reaches_only_dns_and_kafka(
    docs: list[Doc],
) -> None:
    policy = _policy_for(docs, "social")
    grpc = [{"port": GRPC_PORTS["social"], "protocol": "TCP"}]
    [rule] = policy["spec"]["ingress"]
    assert rule["ports"] == grpc
    # Groups asks social's GetProfile before a group is created (an open creator identity).
    assert rule["from"] == [_pods_of("gateway"), _pods_of("content"), _pods_of("groups")]
    # DNS and the Kafka ports (9092 by default, 9092 and 9093 in ci-values.yaml), nothing else.
    egress_ports = {p["port"] for r in policy["spec"]["egress"] for p in r["ports"]}
    assert {53, 9092} <= egress_ports <= {53, 9092, 9093}
    for caller, kind in (("gateway", "Deployment"), ("content", "StatefulSet")):
        pods = named(docs, kind, f"planet-{caller}")["spec"]["template"]["metadata"]
        assert _pods_of(caller)["podSelector"]["matchLabels"].items() <= pods["labels"].items()
        # ...and each caller's own policy lets it out to social's gRPC port.
        assert {"to": [_pods_of("social")], "ports": grpc} in (
            _policy_for(docs, caller)["spec"]["egress"]), caller


def test_gateway_and_content_find_social_in_the_release(
    docs: list[Doc], monkeypatch: pytest.MonkeyPatch
) -> None:
    from services.content.settings import ContentSettings

    gateway, _ = load_from_pod(monkeypatch, the_container(docs, "Deployment", "planet-gateway"))
    assert isinstance(gateway, GatewaySettings)
    assert gateway.social_addr == "planet-social:50058"
    content, _ = load_from_pod(monkeypatch, _content(docs)[1])
    assert isinstance(content, ContentSettings)
    assert content.social_addr == "planet-social:50058"
    service = named(docs, "Service", "planet-social")
    assert service["spec"]["selector"] == _pods_of("social")["podSelector"]["matchLabels"]


def test_social_addresses_can_point_elsewhere() -> None:
    docs = render({"gateway.socialAddr": "social.shared.svc:50058",
                   "content.socialAddr": "social.shared.svc:50058"})
    assert env_of(the_container(docs, "Deployment", "planet-gateway"))[
        "PLANET_GATEWAY_SOCIAL_ADDR"]["value"] == "social.shared.svc:50058"
    assert env_of(_content(docs)[1])["PLANET_CONTENT_SOCIAL_ADDR"]["value"] == (
        "social.shared.svc:50058")
    error = render_error({"content.socialAddr": "no-port"})
    assert SCHEMA_ERROR in error and "/content/socialAddr" in error
