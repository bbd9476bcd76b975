"""The Helm chart renders the properties SREs rely on (helm template + lint, no cluster)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
HELM = ROOT / ".local" / "bin" / "helm"
CHART = ROOT / "deploy" / "k8s" / "planet"
CI_VALUES = ROOT / "deploy" / "k8s" / "ci-values.yaml"
# Offline rendering assumes Kubernetes 1.20; the chart's floor is 1.27 (native gRPC probes).
KUBE_VERSION = "1.27.0"
JWT_SECRET_NAME = "planet-gateway-jwt"
SERVICE_KEY_SECRET = "planet-gateway-service-key"
TRUST_SECRET = "planet-service-trust"
REQUIRED = {
    "kafka.bootstrapServers": "planet-kafka-bootstrap.kafka.svc:9092",
    "gateway.jwtSecretName": JWT_SECRET_NAME,
    "gateway.serviceKeySecretName": SERVICE_KEY_SECRET,
    "serviceAuth.trustSecretName": TRUST_SECRET,
}
GRPC_PORTS = {"content": 50051, "incentive": 50052, "analytics": 50053}
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
    """The rendered objects; fails the test with Helm's message if rendering fails."""
    result = helm_template(sets, files)
    assert result.returncode == 0, result.stderr
    return [d for d in yaml.safe_load_all(result.stdout) if d]


def render_error(sets: dict[str, str], *, required: bool = True) -> str:
    """Helm's error for values that must not render."""
    result = helm_template(sets, required=required)
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
        "python -m services.incentive.processor",
        "python -m services.incentive.engagement",
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
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert c[probe]["grpc"]["port"] == GRPC_PORTS[name], f"{name}: {probe}"
    assert seen == set(GRPC_PORTS)


def test_gateway_has_http_probes_on_healthz(default_docs: list[Doc]) -> None:
    c = the_container(default_docs, "Deployment", "planet-gateway")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[probe]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert {p["name"]: p["containerPort"] for p in c["ports"]} == {"http": 8080}


def test_gateway_config_comes_from_the_release(default_docs: list[Doc]) -> None:
    env = env_of(the_container(default_docs, "Deployment", "planet-gateway"))
    assert env["PLANET_GATEWAY_DEV_MODE"]["value"] == "false"
    assert env["PLANET_GATEWAY_CONTENT_ADDR"]["value"] == "planet-content:50051"
    assert env["PLANET_GATEWAY_INCENTIVE_ADDR"]["value"] == "planet-incentive:50052"
    services = {s["metadata"]["name"]: s for s in of_kind(default_docs, "Service")}
    assert [p["port"] for p in services["planet-content"]["spec"]["ports"]] == [50051]
    assert [p["port"] for p in services["planet-incentive"]["spec"]["ports"]] == [50052]


@pytest.mark.parametrize(
    ("kind", "name", "prefix"),
    [("Deployment", "planet-content", "CONTENT"),
     ("StatefulSet", "planet-incentive", "INCENTIVE"),
     ("StatefulSet", "planet-analytics", "ANALYTICS")],
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
    # Only the gateway calls other services, so only it holds a private key.
    for w in workloads(default_docs):
        if w["metadata"]["name"] != "planet-gateway":
            assert all(v["name"] != "service-key" for v in w["spec"]["template"]["spec"]["volumes"])


def test_service_auth_lifetime_is_bounded() -> None:
    error = render_error({"serviceAuth.assertionLifetimeSeconds": "3600"})
    assert SCHEMA_ERROR in error and "/serviceAuth/assertionLifetimeSeconds" in error


def test_jwt_secret_comes_from_a_secret_key_ref(docs: list[Doc]) -> None:
    env = env_of(the_container(docs, "Deployment", "planet-gateway"))
    jwt = env["PLANET_GATEWAY_JWT_SECRET"]
    assert "value" not in jwt
    assert jwt["valueFrom"]["secretKeyRef"]["name"] == JWT_SECRET_NAME
    # The chart creates no Secret of its own unless given clickhouse.url.
    assert of_kind(docs, "Secret") == []


def test_no_secret_value_appears_in_any_environment(docs: list[Doc]) -> None:
    for w in workloads(docs):
        for c in containers(w):
            for name, var in env_of(c).items():
                if any(word in name for word in ("SECRET", "PASSWORD", "TOKEN", "CLICKHOUSE_URL")):
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


@pytest.mark.parametrize("name", sorted(GRPC_PORTS))
def test_internal_services_admit_only_the_gateway(default_docs: list[Doc], name: str) -> None:
    policy = _policy_for(default_docs, name)
    assert "Ingress" in policy["spec"]["policyTypes"]
    [rule] = policy["spec"]["ingress"]
    assert rule["ports"] == [{"port": GRPC_PORTS[name], "protocol": "TCP"}]
    [peer] = rule["from"]
    assert peer == {
        "podSelector": {
            "matchLabels": {
                "app.kubernetes.io/name": "planet",
                "app.kubernetes.io/instance": "planet",
                "app.kubernetes.io/component": "gateway",
            }
        }
    }
    gateway_pods = named(default_docs, "Deployment", "planet-gateway")["spec"]["template"]
    labels = gateway_pods["metadata"]["labels"]
    assert peer["podSelector"]["matchLabels"].items() <= labels.items()


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


@pytest.mark.parametrize("name", ["content", "incentive"])
def test_single_writers_refuse_a_second_replica(name: str) -> None:
    error = render_error({f"{name}.replicas": "2"})
    assert SCHEMA_ERROR in error and f"/{name}/replicas" in error


def test_pod_disruption_budgets_only_where_replicas_exceed_one(
    default_docs: list[Doc], ci_docs: list[Doc]
) -> None:
    for docs in (default_docs, ci_docs):
        budgets = {p["metadata"]["name"] for p in of_kind(docs, "PodDisruptionBudget")}
        many = {w["metadata"]["name"] for w in workloads(docs) if w["spec"]["replicas"] > 1}
        assert budgets == many
    assert of_kind(render({"gateway.replicas": "1"}), "PodDisruptionBudget") == []


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


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_required_values_have_no_default(missing: str) -> None:
    present = {k: v for k, v in REQUIRED.items() if k != missing}
    error = render_error(present, required=False)
    assert SCHEMA_ERROR in error and "/" + missing.replace(".", "/") in error


@pytest.mark.parametrize(
    ("key", "name"),
    [
        ("gateway", "gateway"),
        ("content", "content"),
        ("incentive", "incentive"),
        ("aggregator", "engagement-aggregator"),
        ("analytics", "analytics"),
    ],
)
def test_each_component_can_be_switched_off(key: str, name: str) -> None:
    sets = {f"{key}.enabled": "false"}
    if key == "gateway":
        sets["gateway.jwtSecretName"] = ""
    docs = render(sets)
    assert [d for d in docs if component(d) == name] == []
    assert {component(w) for w in workloads(docs)} == {
        "gateway",
        "content",
        "incentive",
        "engagement-aggregator",
        "analytics",
    } - {name}


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
