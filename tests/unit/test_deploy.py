"""The Kubernetes manifests (deploy/kubernetes) validated offline against Kubernetes 1.28's schemas
(kubernetes-validate ships them), and what a rollout relies on: readiness probes and a graceful stop on every
server, sticky socket.io sessions at the ingress, settings every server understands."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Dict, List

import kubernetes_validate
import pytest
import yaml

from support.settings import ENVIRONMENT_VARIABLES, ROOT

MANIFESTS = sorted((ROOT / "deploy" / "kubernetes").glob("*.yaml"))
VERSION = "1.28.0"


def _resources() -> List[Dict[str, Any]]:
    return [doc for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def _kind(kind: str) -> List[Dict[str, Any]]:
    return [r for r in _resources() if r["kind"] == kind]


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: Path(p).name)
def test_every_manifest_is_valid_kubernetes(path: Path) -> None:
    for resource in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        kubernetes_validate.validate(resource, VERSION, strict=True)


def test_a_wrong_manifest_is_refused() -> None:
    deployment = copy.deepcopy(_kind("Deployment")[0])
    deployment["spec"]["replicas"] = "three"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSION, strict=True)
    deployment = copy.deepcopy(_kind("Deployment")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {}  # a typo: strict refuses it
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSION, strict=True)


def test_servers_are_ready_before_traffic_and_stop_gracefully() -> None:
    deployments = {d["metadata"]["name"]: d for d in _kind("Deployment")}
    assert set(deployments) == {"support-assistant-rasa", "support-assistant-actions"}
    for deployment in deployments.values():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        assert container["readinessProbe"]["httpGet"]["path"] in ("/", "/health")
        assert "preStop" in container["lifecycle"]
        assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] >= 30
    assert deployments["support-assistant-rasa"]["spec"]["replicas"] >= 2


def test_the_ingress_keeps_a_widget_on_one_replica_and_websockets_open() -> None:
    (ingress,) = _kind("Ingress")
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) >= 600


def test_settings_are_ones_the_servers_read_and_jobs_run_real_commands() -> None:
    known = set(ENVIRONMENT_VARIABLES) | {"RASA_PORT", "ACTIONS_PORT", "ACTION_SERVER_URL", "RASA_API_TOKEN"}
    for resource in _kind("ConfigMap") + _kind("Secret"):
        names = set(resource.get("data") or {}) | set(resource.get("stringData") or {})
        names = {name for name in names if not name.startswith("SANIC_")}  # Sanic reads its own from the environment
        assert names <= known, names - known
    commands = [
        c["command"]
        for job in _kind("CronJob")
        for c in job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    ]
    assert ["python", "-m", "support.cli", "dunning"] in commands
    assert ["python", "-m", "support.cli", "retention"] in commands
    rasa = next(d for d in _kind("Deployment") if d["metadata"]["name"] == "support-assistant-rasa")
    script = " ".join(rasa["spec"]["template"]["spec"]["containers"][0]["args"])
    assert "scripts.write_endpoints" in script and "credentials.yml" in script and "models/assistant.tar.gz" in script
