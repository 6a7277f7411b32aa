"""ops/deploy: the Kubernetes manifests hang together and the Containerfile has what it needs.

No cluster or container engine is involved: the YAML is parsed and cross-checked (labels,
selectors, ports, probes, Secret keys, KILN_* names against app/settings.py). Each check is a
plain function of the parsed documents so a wrong label, port or setting name fails a test.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from app.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "ops" / "deploy"
K8S = DEPLOY / "k8s"
HEALTH = "/api/v1/health"
SDK_VARIABLES = {"KILN_API_URL", "KILN_API_KEY"}  # read by the worker SDK, not by the server
SERVER_SECRET = ("KILN_DATABASE_URL", "KILN_SECRET_KEY", "KILN_METRICS_TOKEN")

Doc = dict[str, Any]


def _load() -> list[tuple[str, Doc]]:
    documents = []
    for path in sorted(K8S.glob("*.y*ml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if doc is not None:
                documents.append((path.name, doc))
    return documents


DOCS = _load()


def _kind(kind: str) -> list[Doc]:
    return [doc for _, doc in DOCS if doc.get("kind") == kind]


def _one(kind: str, name: str) -> Doc:
    found = [doc for doc in _kind(kind) if doc["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} named {name}, found {len(found)}"
    return found[0]


def _pod_specs() -> Iterator[tuple[str, Doc]]:
    for doc in _kind("Deployment") + _kind("Job"):
        yield doc["metadata"]["name"], doc["spec"]["template"]["spec"]


def _containers(pod: Doc) -> list[Doc]:
    return list(pod.get("initContainers", [])) + list(pod["containers"])


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def _secret_keys() -> dict[str, set[str]]:
    path = K8S / "secret.example.yaml"
    keys: dict[str, set[str]] = {}
    for doc in yaml.safe_load_all(path.read_text()):
        if doc and doc.get("kind") == "Secret":
            data = {**doc.get("data", {}), **doc.get("stringData", {})}
            keys[doc["metadata"]["name"]] = set(data)
    return keys


def _probe_target_ok(probe: Doc, container: Doc) -> bool:
    get = probe.get("httpGet") or {}
    ports = container.get("ports", [])
    names = {p.get("name") for p in ports if p.get("name")}
    numbers = {p["containerPort"] for p in ports}
    port = get.get("port")
    return get.get("path") == HEALTH and (port in names or port in numbers)


# --- every document -----------------------------------------------------------------------------

def test_the_expected_files_exist():
    names = {path.name for path in K8S.glob("*.yaml")}
    assert {"server-deployment.yaml", "server-service.yaml", "server-pdb.yaml",
            "secret.example.yaml", "worker-deployment.example.yaml",
            "keda-scaledobject.example.yaml", "migrate-job.yaml"} <= names


@pytest.mark.parametrize(("file", "doc"), DOCS, ids=[f"{f}:{d.get('kind')}" for f, d in DOCS])
def test_every_document_has_api_version_kind_and_name(file: str, doc: Doc):
    assert isinstance(doc.get("apiVersion"), str), file
    assert doc["apiVersion"], file
    assert isinstance(doc.get("kind"), str), file
    assert doc["kind"], file
    assert isinstance(doc.get("metadata", {}).get("name"), str), file
    assert "namespace" not in doc["metadata"], f"{file}: keep manifests namespace-agnostic"


# --- workloads ----------------------------------------------------------------------------------

@pytest.mark.parametrize("deployment", _kind("Deployment"), ids=lambda d: d["metadata"]["name"])
def test_deployment_selector_matches_its_pod_labels(deployment: Doc):
    selector = deployment["spec"]["selector"]["matchLabels"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert _matches(selector, labels)


@pytest.mark.parametrize(("name", "pod"), list(_pod_specs()), ids=[n for n, _ in _pod_specs()])
def test_containers_have_images_and_probes_hit_the_health_endpoint_on_a_declared_port(
    name: str, pod: Doc
):
    for container in _containers(pod):
        assert container.get("image"), f"{name}/{container.get('name')}: no image"
        for kind in ("readinessProbe", "livenessProbe", "startupProbe"):
            if kind in container:
                assert _probe_target_ok(container[kind], container), f"{name}: {kind}"


def test_server_deployment_shape():
    server = _one("Deployment", "kiln-server")
    spec = server["spec"]
    pod = spec["template"]["spec"]
    (container,) = pod["containers"]
    assert spec["replicas"] == 3
    assert {"readinessProbe", "livenessProbe"} <= set(container)
    assert container["resources"]["requests"]
    assert container["resources"]["limits"]
    assert 8080 in {p["containerPort"] for p in container["ports"]}
    command = container.get("command", []) + container.get("args", [])
    assert command[:3] == ["kiln", "server", "start"]
    assert command[command.index("--port") + 1] == "8080"
    assert command[command.index("--host") + 1] == "0.0.0.0"  # noqa: S104 — a pod must bind all
    # Migrations run once, in the Job, before the rollout.
    assert "--no-migrate" in command
    assert _one("Job", "kiln-migrate")["spec"]["template"]["spec"]["containers"][0][
        "command"] == ["kiln", "migrate"]
    # Shutdown: preStop drain + uvicorn's 5s graceful shutdown must fit in the grace period.
    pre_stop = container["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    assert int(pre_stop[1]) + 5 + 5 <= pod["terminationGracePeriodSeconds"]
    assert pod["securityContext"]["runAsNonRoot"] is True


def test_server_env_comes_from_the_secret():
    pod = _one("Deployment", "kiln-server")["spec"]["template"]["spec"]
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    for name in SERVER_SECRET:
        ref = env[name]["valueFrom"]["secretKeyRef"]
        assert ref["name"] == "kiln-server"
        assert ref["key"] == name


@pytest.mark.parametrize(("name", "pod"), list(_pod_specs()), ids=[n for n, _ in _pod_specs()])
def test_secret_refs_name_keys_of_the_example_secret(name: str, pod: Doc):
    secrets = _secret_keys()
    for container in _containers(pod):
        for env in container.get("env", []):
            ref = env.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                assert ref["key"] in secrets.get(ref["name"], set()), (
                    f"{name}: {env['name']} refers to {ref['name']}/{ref['key']}, "
                    "absent from secret.example.yaml")


def test_kiln_variables_are_real_settings():
    settings = {f"KILN_{field.upper()}" for field in Settings.model_fields}
    assert {"KILN_DATABASE_URL", "KILN_SECRET_KEY", "KILN_METRICS_TOKEN"} <= settings
    used: dict[str, set[str]] = {}
    for name, pod in _pod_specs():
        for container in _containers(pod):
            used.setdefault(name, set()).update(
                env["name"] for env in container.get("env", []) if env["name"].startswith("KILN_"))
    for secret, keys in _secret_keys().items():
        used.setdefault(f"secret/{secret}", set()).update(k for k in keys if k.startswith("KILN_"))
    assert used
    for name, variables in used.items():
        # Worker pods (and their Secret) use the SDK's variables; everything else is the server.
        allowed = SDK_VARIABLES if "worker" in name else settings
        unknown = sorted(variables - allowed)
        assert unknown == [], f"{name}: not a setting of app/settings.py (or of the SDK)"


def test_worker_example_talks_to_the_api_with_a_key():
    pod = _one("Deployment", "kiln-worker")["spec"]["template"]["spec"]
    env = {e["name"]: e for e in pod["containers"][0]["env"]}
    assert env["KILN_API_URL"]["value"].startswith("http")
    assert env["KILN_API_KEY"]["valueFrom"]["secretKeyRef"]["key"] == "KILN_API_KEY"


# --- Service, PDB, KEDA -------------------------------------------------------------------------

def test_service_selects_the_server_pods_and_targets_their_port():
    server = _one("Deployment", "kiln-server")
    labels = server["spec"]["template"]["metadata"]["labels"]
    container = server["spec"]["template"]["spec"]["containers"][0]
    port_names = {p.get("name") for p in container["ports"]}
    port_numbers = {p["containerPort"] for p in container["ports"]}
    service = _one("Service", "kiln-server")
    assert _matches(service["spec"]["selector"], labels)
    assert not _matches(service["spec"]["selector"],
                        _one("Deployment", "kiln-worker")["spec"]["template"]["metadata"][
                            "labels"])
    for port in service["spec"]["ports"]:
        target = port.get("targetPort", port["port"])
        assert target in port_names or target in port_numbers, target


def test_pdb_selects_the_server_pods_and_keeps_one_up():
    labels = _one("Deployment", "kiln-server")["spec"]["template"]["metadata"]["labels"]
    (pdb,) = _kind("PodDisruptionBudget")
    assert _matches(pdb["spec"]["selector"]["matchLabels"], labels)
    spec = pdb["spec"]
    assert spec.get("minAvailable") == 1 or spec.get("maxUnavailable") == 1


def test_scaled_object_scales_the_worker_on_the_queue_endpoint():
    (scaled,) = _kind("ScaledObject")
    target = scaled["spec"]["scaleTargetRef"]
    worker = _one("Deployment", "kiln-worker")
    assert target["name"] == worker["metadata"]["name"]
    assert target.get("kind", "Deployment") == "Deployment"
    auths = {doc["metadata"]["name"]: doc for doc in _kind("TriggerAuthentication")}
    triggers = scaled["spec"]["triggers"]
    assert triggers
    for trigger in triggers:
        assert trigger.get("type")
        assert isinstance(trigger.get("metadata"), dict)
        assert trigger["metadata"]
    api = [t for t in triggers if t["type"] == "metrics-api"]
    assert api, "show the metrics-api variant (a SaaS tenant cannot scrape /metrics)"
    secrets = _secret_keys()
    for trigger in api:
        assert trigger["metadata"]["url"].endswith("/api/v1/metrics/queue")
        assert trigger["metadata"]["valueLocation"]
        float(trigger["metadata"]["targetValue"])
        assert trigger["metadata"]["authMode"] == "bearer"  # Kiln takes Authorization: Bearer
        auth = auths[trigger["authenticationRef"]["name"]]
        refs = auth["spec"]["secretTargetRef"]
        assert {r["parameter"] for r in refs} == {"token"}
        for ref in refs:
            assert ref["key"] in secrets[ref["name"]]


def test_a_wrong_label_or_port_would_fail():
    """The helpers above really discriminate (guards against a vacuous check)."""
    assert not _matches({"app": "kiln"}, {"app": "kiln-server"})
    assert not _matches({}, {"app": "kiln"})
    container = {"ports": [{"name": "http", "containerPort": 8080}]}
    assert _probe_target_ok({"httpGet": {"path": HEALTH, "port": "http"}}, container)
    assert _probe_target_ok({"httpGet": {"path": HEALTH, "port": 8080}}, container)
    assert not _probe_target_ok({"httpGet": {"path": HEALTH, "port": 8000}}, container)
    assert not _probe_target_ok({"httpGet": {"path": HEALTH, "port": "web"}}, container)
    assert not _probe_target_ok({"httpGet": {"path": "/health", "port": "http"}}, container)


# --- Containerfile ------------------------------------------------------------------------------

def test_containerfile_essentials():
    text = (DEPLOY / "Containerfile").read_text()
    instructions = [line for line in text.splitlines() if line and not line.startswith("#")]
    body = "\n".join(instructions)
    assert re.search(r"^FROM node:20|^ARG NODE_IMAGE=node:20", body, re.M)
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim|^FROM python:3\.11-slim", body, re.M)
    assert len(re.findall(r"^FROM ", body, re.M)) >= 2, "multi-stage"
    assert "npm ci" in body
    assert "npm run build" in body
    assert re.search(r"uv sync --frozen\b.*--no-dev", body)
    assert re.search(r"^EXPOSE 8080$", body, re.M)
    users = re.findall(r"^USER (\S+)", body, re.M)
    assert users, "runs as a non-root user"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert re.search(r"^HEALTHCHECK .*", body, re.M)
    assert HEALTH in body[body.index("HEALTHCHECK"):]
    assert ('CMD ["kiln", "server", "start", "--host", "0.0.0.0", "--port", "8080"]'
            in instructions)
    assert (DEPLOY / "Containerfile.dockerignore").exists()
