#!/usr/bin/env python3
"""Offline checks of Resonance's deployment manifests (run by deploy/validate.sh).

  validate_manifests.py k8s RENDERED.yaml [--k8s-version V ...] [--require-tagged-images]
                        [--external-secret NAME ...] [--resonance-bin BIN]
  validate_manifests.py compose RESOLVED.yaml [--resonance-bin BIN]

`k8s` takes the output of `kubectl kustomize OVERLAY` and checks every object against the
Kubernetes OpenAPI schemas bundled in the PyPI package kubernetes-validate (strict: unknown fields
are errors; an object of a kind without a schema is an error too), then what a schema cannot see:
selectors that select, ports and probes that match the listen addresses, the shutdown budget
(terminationGracePeriodSeconds > preStop sleep + drain_delay + shutdown_grace), security
settings, resources, autoscaler and disruption budget bounds, references to ConfigMaps and
Secrets, and RESONANCE_* variable names.

`compose` takes the output of `docker-compose -f deploy/compose.yaml config` and checks ports
(127.0.0.1 only, no host port twice), health checks, start order, and the same shutdown budget.

With --resonance-bin, each container's environment (and mounted TOML file) is also given to
`resonance config`, which refuses unknown keys and invalid values, and each command the
manifests run (`scoring`, `migrate`, `health`, ...) must be a subcommand of that binary.
"""

from __future__ import annotations

import argparse
import base64
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

DEPLOY = Path(__file__).resolve().parent
ROLES = {"scoring", "roster", "ingest"}
RUN_AS_USER = 10001  # deploy/Dockerfile's user
DEFAULT_DRAIN = 0.0  # server.drain_delay default
DEFAULT_GRACE = 10.0  # server.shutdown_grace default
ALLOWED_RESONANCE_VARS = {"RESONANCE_CONFIG"}

errors: list[str] = []


def error(where: str, message: str) -> None:
    errors.append(f"{where}: {message}")


def duration_seconds(text: str) -> float:
    """A humantime duration as the binary reads it: "5s", "500ms", "1m 30s"."""
    units = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]+)", str(text).strip())
    if not parts or re.sub(r"[\d.\sa-z]", "", str(text)):
        raise ValueError(f"not a duration: {text!r}")
    return sum(float(n) * units[u] for n, u in parts)


def cpu_millis(q) -> float:
    q = str(q)
    return float(q[:-1]) if q.endswith("m") else float(q) * 1000


def mem_bytes(q) -> float:
    q = str(q)
    factors = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9}
    for suffix, factor in factors.items():
        if q.endswith(suffix):
            return float(q[: -len(suffix)]) * factor
    return float(q)


def listen_port(addr: str) -> int:
    return int(str(addr).rsplit(":", 1)[1])


def dockerfile_env() -> dict[str, str]:
    """ENV values deploy/Dockerfile sets (the listen addresses, telemetry format)."""
    text = (DEPLOY / "Dockerfile").read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(dict(re.findall(r"(\w+)=(\S+)", line)))
    return env


def check_env_names(where: str, env: dict[str, str]) -> None:
    for key in env:
        if key.startswith("RESONANCE") and not key.startswith("RESONANCE__") \
                and key not in ALLOWED_RESONANCE_VARS:
            error(where, f"variable {key} is ignored by resonance (RESONANCE__SECTION__KEY, "
                         f"with double underscores, or RESONANCE_CONFIG)")


def shutdown_budget(env: dict[str, str]) -> tuple[float, float]:
    drain = duration_seconds(env.get("RESONANCE__SERVER__DRAIN_DELAY", f"{DEFAULT_DRAIN}s"))
    grace = duration_seconds(env.get("RESONANCE__SERVER__SHUTDOWN_GRACE", f"{DEFAULT_GRACE}s"))
    return drain, grace


def run_binary(binary: str, where: str, args: list[str], env: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as cwd:
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), **env}
        proc = subprocess.run([binary, *args], env=full_env, cwd=cwd, capture_output=True,
                              text=True, timeout=60, stdin=subprocess.DEVNULL)
    if proc.returncode != 0:
        output = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
        error(where, f"`resonance {' '.join(args)}` exited {proc.returncode}: "
                     f"{output[0] if output else ''}")


def check_binary(binary: str, where: str, command: list[str], env: dict[str, str],
                 files: dict[str, str]) -> None:
    """`resonance config` accepts the environment; the command is a subcommand of the binary."""
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(env)
        config = env.get("RESONANCE_CONFIG")
        if config is not None:
            if config not in files:
                error(where, f"RESONANCE_CONFIG={config}: no such file in the container")
                env.pop("RESONANCE_CONFIG")
            else:
                local = Path(tmp) / "resonance.toml"
                local.write_text(files[config])
                env["RESONANCE_CONFIG"] = str(local)
        run_binary(binary, where, ["config"], env)
    if command:
        run_binary(binary, where, ["help", command[0]], {})


# ---------------------------------------------------------------------------------------------
# Kubernetes


def kn(obj: dict) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def validate_schemas(objects: list[dict], versions: list[str]) -> None:
    import kubernetes_validate

    for obj in objects:
        for version in versions:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as e:
                path = ".".join(str(p) for p in e.path)
                error(kn(obj), f"Kubernetes {version} schema: {path}: {e.message}")
            except kubernetes_validate.SchemaNotFoundError as e:
                error(kn(obj), e.message)


def container_env(where: str, container: dict, by_kind: dict, external: set[str]) -> dict:
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        for ref_key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            ref = source.get(ref_key)
            if ref is None:
                continue
            obj = by_kind[kind].get(ref["name"])
            if obj is None:
                if not (kind == "Secret" and ref["name"] in external) and not ref.get("optional"):
                    error(where, f"envFrom {kind} {ref['name']} is not in the manifests")
                continue
            data = dict(obj.get("data") or {})
            if kind == "Secret":
                data = {k: base64.b64decode(v).decode() for k, v in data.items()}
                data.update(obj.get("stringData") or {})
            env.update({source.get("prefix", "") + k: str(v) for k, v in data.items()})
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = str(var["value"])
        elif "valueFrom" in var:
            for ref_key, kind in (("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")):
                ref = var["valueFrom"].get(ref_key)
                if ref and ref["name"] not in by_kind[kind] and ref["name"] not in external:
                    error(where, f"env {var['name']}: {kind} {ref['name']} is not in the manifests")
    return env


def mounted_files(where: str, pod: dict, container: dict, by_kind: dict) -> dict[str, str]:
    """Files that ConfigMap volumes put in the container: path -> content."""
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    files: dict[str, str] = {}
    for mount in container.get("volumeMounts", []):
        volume = volumes.get(mount["name"])
        if volume is None:
            error(where, f"volumeMount {mount['name']} has no volume")
            continue
        if "configMap" not in volume:
            continue
        ref = volume["configMap"]
        cm = by_kind["ConfigMap"].get(ref["name"])
        if cm is None:
            if not ref.get("optional"):
                error(where, f"volume {volume['name']}: ConfigMap {ref['name']} is not in the manifests")
            continue
        data = cm.get("data") or {}
        items = ref.get("items") or [{"key": k, "path": k} for k in data]
        for item in items:
            if item["key"] not in data:
                error(where, f"volume {volume['name']}: ConfigMap {ref['name']} has no key {item['key']}")
                continue
            path = f"{mount['mountPath'].rstrip('/')}/{item['path']}"
            if mount.get("subPath"):
                if mount["subPath"] != item["path"]:
                    continue
                path = mount["mountPath"]
            files[path] = data[item["key"]]
    return files


def check_container_basics(where: str, pod: dict, container: dict, require_tag: bool) -> None:
    image = container.get("image", "")
    if require_tag:
        tag = image.rsplit("/", 1)[-1].partition(":")[2] if "@" not in image else "digest"
        if not tag or tag == "latest":
            error(where, f"image {image!r} has no pinned tag")
    psc = pod.get("securityContext", {})
    csc = container.get("securityContext", {})
    if not (csc.get("runAsNonRoot", psc.get("runAsNonRoot")) is True):
        error(where, "runAsNonRoot is not true")
    if csc.get("runAsUser", psc.get("runAsUser")) != RUN_AS_USER:
        error(where, f"runAsUser is not {RUN_AS_USER} (the image's user)")
    if csc.get("readOnlyRootFilesystem") is not True:
        error(where, "readOnlyRootFilesystem is not true")
    if csc.get("allowPrivilegeEscalation") is not False:
        error(where, "allowPrivilegeEscalation is not false")
    if "ALL" not in (csc.get("capabilities", {}).get("drop") or []):
        error(where, "capabilities do not drop ALL")
    if pod.get("automountServiceAccountToken") is not False:
        error(where, "automountServiceAccountToken is not false (Resonance calls no Kubernetes API)")
    if pod.get("enableServiceLinks") is not False:
        error(where, "enableServiceLinks is not false")
    resources = container.get("resources", {})
    for bound in ("requests", "limits"):
        for name in ("cpu", "memory"):
            if name not in resources.get(bound, {}):
                error(where, f"resources.{bound}.{name} is not set")
    req, lim = resources.get("requests", {}), resources.get("limits", {})
    if "cpu" in req and "cpu" in lim and cpu_millis(req["cpu"]) > cpu_millis(lim["cpu"]):
        error(where, f"cpu request {req['cpu']} exceeds its limit {lim['cpu']}")
    if "memory" in req and "memory" in lim and mem_bytes(req["memory"]) > mem_bytes(lim["memory"]):
        error(where, f"memory request {req['memory']} exceeds its limit {lim['memory']}")


def check_k8s(objects: list[dict], versions: list[str], require_tag: bool, external: set[str],
              binary: str | None) -> None:
    by_kind: dict[str, dict[str, dict]] = {}
    for obj in objects:
        name = obj.get("metadata", {}).get("name")
        kinds = by_kind.setdefault(obj["kind"], {})
        if name in kinds:
            error(kn(obj), "defined twice")
        kinds[name] = obj
    for kind in ("ConfigMap", "Secret", "Deployment", "Service", "HorizontalPodAutoscaler",
                 "PodDisruptionBudget", "Job", "ServiceAccount"):
        by_kind.setdefault(kind, {})

    validate_schemas(objects, versions)
    try:
        check_k8s_semantics(by_kind, require_tag, external, binary)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
        # Only malformed objects get here, and the schema errors above say which.
        error("manifests", f"further checks stopped at {type(e).__name__}: {e}")


def check_k8s_semantics(by_kind: dict, require_tag: bool, external: set[str],
                        binary: str | None) -> None:
    for obj in by_kind["ConfigMap"].values():
        check_env_names(kn(obj), obj.get("data") or {})
    for obj in by_kind["Secret"].values():
        check_env_names(kn(obj), {**(obj.get("data") or {}), **(obj.get("stringData") or {})})

    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in by_kind["HorizontalPodAutoscaler"].values()
            if h["spec"]["scaleTargetRef"].get("kind") == "Deployment"}
    workloads = list(by_kind["Deployment"].values()) + list(by_kind["Job"].values())
    if not by_kind["Deployment"]:
        error("manifests", "no Deployment")
    if not by_kind["Job"]:
        error("manifests", "no migration Job")

    for workload in workloads:
        where = kn(workload)
        pod = workload["spec"]["template"]["spec"]
        sa = pod.get("serviceAccountName")
        if sa and sa not in by_kind["ServiceAccount"]:
            error(where, f"ServiceAccount {sa} is not in the manifests")
        for container in pod.get("containers", []):
            cwhere = f"{where} container {container['name']}"
            check_container_basics(cwhere, pod, container, require_tag)
            env = container_env(cwhere, container, by_kind, external)
            check_env_names(cwhere, {v["name"]: "" for v in container.get("env", [])})
            files = mounted_files(cwhere, pod, container, by_kind)
            if "RESONANCE_CONFIG" in env and env["RESONANCE_CONFIG"] not in files:
                error(cwhere, f"RESONANCE_CONFIG={env['RESONANCE_CONFIG']} is not a mounted file")
            command = container.get("args") or []
            if workload["kind"] == "Deployment":
                check_service_container(cwhere, workload, pod, container, env, command)
            elif command[:1] != ["migrate"]:
                error(cwhere, f"the Job runs {command}, not `migrate`")
            if binary:
                check_binary(binary, cwhere, command, env, files)
        if workload["kind"] == "Job":
            spec = workload["spec"]
            if pod.get("restartPolicy") not in ("Never", "OnFailure"):
                error(where, "restartPolicy must be Never or OnFailure")
            for key in ("backoffLimit", "ttlSecondsAfterFinished"):
                if key not in spec:
                    error(where, f"{key} is not set")

    for dep in by_kind["Deployment"].values():
        where = kn(dep)
        spec = dep["spec"]
        labels = spec["template"]["metadata"].get("labels", {})
        if not selects(spec["selector"].get("matchLabels", {}), labels):
            error(where, "selector does not match the pod template's labels")
        hpa = hpas.get(dep["metadata"]["name"])
        if hpa is None:
            error(where, "no HorizontalPodAutoscaler scales it")
        else:
            low, high = hpa["spec"].get("minReplicas", 1), hpa["spec"]["maxReplicas"]
            replicas = spec.get("replicas", 1)
            if not low <= replicas <= high:
                error(where, f"replicas {replicas} outside its autoscaler's {low}..{high}")
        pdbs = [p for p in by_kind["PodDisruptionBudget"].values()
                if selects(p["spec"].get("selector", {}).get("matchLabels", {}), labels)]
        if len(pdbs) != 1:
            error(where, f"{len(pdbs)} PodDisruptionBudgets select its pods, not 1")
        for pdb in pdbs:
            floor = min(spec.get("replicas", 1), hpa["spec"].get("minReplicas", 1) if hpa else 1 << 30)
            available = pdb["spec"].get("minAvailable")
            if isinstance(available, int) and available >= floor:
                error(kn(pdb), f"minAvailable {available} with {floor} replica(s) blocks every "
                               f"voluntary eviction (node drains)")
        services = [s for s in by_kind["Service"].values()
                    if selects(s["spec"].get("selector", {}), labels)]
        if not services:
            error(where, "no Service selects its pods")

    for svc in by_kind["Service"].values():
        where = kn(svc)
        if svc["spec"].get("type") == "ExternalName":
            if not svc["spec"].get("externalName"):
                error(where, "ExternalName Service without externalName")
            continue
        targets = [d for d in by_kind["Deployment"].values()
                   if selects(svc["spec"].get("selector", {}), d["spec"]["template"]["metadata"].get("labels", {}))]
        if len(targets) != 1:
            error(where, f"selects the pods of {len(targets)} Deployments, not 1")
            continue
        ports = {}
        for c in targets[0]["spec"]["template"]["spec"]["containers"]:
            for p in c.get("ports", []):
                ports[p.get("name")] = p["containerPort"]
        for port in svc["spec"].get("ports", []):
            target = port.get("targetPort", port["port"])
            if isinstance(target, str) and target not in ports:
                error(where, f"targetPort {target} is no port of {kn(targets[0])}")
            if isinstance(target, int) and target not in ports.values():
                error(where, f"targetPort {target} is no port of {kn(targets[0])}")
            if port.get("name") == "grpc" and port.get("appProtocol") not in ("grpc", "kubernetes.io/h2c"):
                error(where, "port grpc has no appProtocol grpc")

    for hpa in by_kind["HorizontalPodAutoscaler"].values():
        where = kn(hpa)
        ref = hpa["spec"]["scaleTargetRef"]
        target = by_kind.get(ref["kind"], {}).get(ref["name"])
        if target is None:
            error(where, f"scales {ref['kind']}/{ref['name']}, which is not in the manifests")
            continue
        if hpa["spec"].get("minReplicas", 1) > hpa["spec"]["maxReplicas"]:
            error(where, "minReplicas > maxReplicas")
        for metric in hpa["spec"].get("metrics", []):
            name = metric.get("resource", {}).get("name")
            if metric["type"] == "Resource" and metric["resource"]["target"]["type"] == "Utilization":
                for c in target["spec"]["template"]["spec"]["containers"]:
                    if name not in c.get("resources", {}).get("requests", {}):
                        error(where, f"{name} utilization, but {kn(target)} requests no {name}")

    for pdb in by_kind["PodDisruptionBudget"].values():
        if "minAvailable" in pdb["spec"] and "maxUnavailable" in pdb["spec"]:
            error(kn(pdb), "sets both minAvailable and maxUnavailable")


def check_service_container(where: str, dep: dict, pod: dict, container: dict, env: dict,
                            command: list[str]) -> None:
    role = command[0] if command else None
    if role not in ROLES:
        error(where, f"runs {command}: not one of {sorted(ROLES)}")
        return
    ports = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
    for name in ("grpc", "metrics"):
        if name not in ports:
            error(where, f"no container port named {name}")
    listen_key = f"RESONANCE__{role.upper()}__LISTEN"
    listen = env.get(listen_key) or dockerfile_env().get(listen_key)
    if listen and ports.get("grpc") != listen_port(listen):
        error(where, f"port grpc {ports.get('grpc')} but {listen_key}={listen}")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        spec = container.get(probe)
        if not spec or "grpc" not in spec:
            error(where, f"{probe} is not a gRPC probe")
        elif spec["grpc"]["port"] != ports.get("grpc"):
            error(where, f"{probe} probes port {spec['grpc']['port']}, not grpc {ports.get('grpc')}")
    metrics = env.get("RESONANCE__TELEMETRY__METRICS_LISTEN")
    if not metrics or not metrics.startswith("0.0.0.0:"):
        error(where, f"RESONANCE__TELEMETRY__METRICS_LISTEN={metrics}: metrics only on 127.0.0.1, "
                     "out of Prometheus' reach")
    elif ports.get("metrics") != listen_port(metrics):
        error(where, f"port metrics {ports.get('metrics')} but METRICS_LISTEN={metrics}")
    annotations = dep["spec"]["template"]["metadata"].get("annotations", {})
    if annotations.get("prometheus.io/scrape") != "true" \
            or annotations.get("prometheus.io/port") != str(ports.get("metrics")):
        error(where, "prometheus.io/scrape and prometheus.io/port do not name the metrics port")
    if env.get("RESONANCE__DATABASE__MIGRATE_ON_START", "true").lower() != "false":
        error(where, "services must not migrate on start (the Job does)")
    pre_stop = container.get("lifecycle", {}).get("preStop", {})
    sleep = pre_stop.get("sleep", {}).get("seconds", 0)
    if not sleep:
        error(where, "no preStop sleep: endpoints may still route to a stopping pod")
    drain, grace = shutdown_budget(env)
    budget = sleep + drain + grace
    period = pod.get("terminationGracePeriodSeconds", 30)
    if period <= budget:
        error(where, f"terminationGracePeriodSeconds {period} <= preStop {sleep}s + drain_delay "
                     f"{drain:g}s + shutdown_grace {grace:g}s")


# ---------------------------------------------------------------------------------------------
# docker-compose


def published(port) -> tuple[str | None, str, str]:
    """(host ip, host port, container port) of a `ports` entry, short or long syntax."""
    if isinstance(port, dict):
        return port.get("host_ip"), str(port.get("published", "")), str(port["target"])
    parts = str(port).split("/")[0].split(":")
    if len(parts) == 3:
        return parts[0], parts[1], parts[2]
    if len(parts) == 2:
        return None, parts[0], parts[1]
    return None, "", parts[0]


def check_compose(doc: dict, binary: str | None) -> None:
    services = doc.get("services", {})
    defaults = dockerfile_env()
    host_ports: dict[str, str] = {}
    for name, svc in services.items():
        where = f"compose service {name}"
        container_ports = set()
        for port in svc.get("ports", []):
            ip, host, container = published(port)
            container_ports.add(int(container))
            if ip != "127.0.0.1":
                error(where, f"port {port} is not published on 127.0.0.1 only")
            if not host:
                error(where, f"port {port} has no fixed host port")
            elif host in host_ports:
                error(where, f"host port {host} is also published by {host_ports[host]}")
            else:
                host_ports[host] = name
        for dep, cond in (svc.get("depends_on") or {}).items():
            condition = cond.get("condition") if isinstance(cond, dict) else "service_started"
            if dep not in services:
                error(where, f"depends on unknown service {dep}")
            elif condition == "service_healthy" and "healthcheck" not in services[dep]:
                error(where, f"waits for {dep} to be healthy, which has no healthcheck")
        if svc.get("image") != "resonance:dev":
            if "healthcheck" not in svc:
                error(where, "no healthcheck")
            continue

        build = svc.get("build") or {}
        if not build or Path(build.get("context", "")) != DEPLOY.parent \
                or build.get("dockerfile") != "deploy/Dockerfile":
            error(where, "does not build deploy/Dockerfile from the repository root")
        command = svc.get("command") or []
        env = {k: str(v) for k, v in (svc.get("environment") or {}).items()}
        check_env_names(where, env)
        depends = svc.get("depends_on") or {}
        if depends.get("postgres", {}).get("condition") != "service_healthy":
            error(where, "does not wait for postgres to be healthy")
        if command[:1] == ["migrate"]:
            if svc.get("restart") not in (None, "no"):
                error(where, "a one-shot migration must not restart")
        else:
            role = command[0] if command else None
            if role not in ROLES:
                error(where, f"runs {command}: not one of {sorted(ROLES)}")
                continue
            if depends.get("migrate", {}).get("condition") != "service_completed_successfully":
                error(where, "does not wait for migrate to complete successfully")
            if role == "ingest" and depends.get("nats", {}).get("condition") != "service_healthy":
                error(where, "does not wait for nats to be healthy")
            if env.get("RESONANCE__DATABASE__MIGRATE_ON_START", "true").lower() != "false":
                error(where, "services must not migrate on start (the migrate service does)")
            listen_key = f"RESONANCE__{role.upper()}__LISTEN"
            grpc = listen_port(env.get(listen_key) or defaults[listen_key])
            metrics = env.get("RESONANCE__TELEMETRY__METRICS_LISTEN", "")
            if not metrics.startswith("0.0.0.0:"):
                error(where, f"METRICS_LISTEN={metrics!r}: not reachable from outside the container")
            else:
                expected = {grpc, listen_port(metrics)}
                if not expected <= container_ports:
                    error(where, f"publishes {sorted(container_ports)}, not the gRPC and metrics "
                                 f"ports {sorted(expected)}")
            test = (svc.get("healthcheck") or {}).get("test") or []
            if test[:3] != ["CMD", "resonance", "health"] or len(test) != 4 \
                    or listen_port(test[3]) != grpc:
                error(where, f"healthcheck {test} is not `resonance health 127.0.0.1:{grpc}`")
            elif binary:
                run_binary(binary, where, ["help", "health"], {})
            drain, grace = shutdown_budget(env)
            stop = duration_seconds(svc.get("stop_grace_period", "10s"))
            if stop <= drain + grace:
                error(where, f"stop_grace_period {stop:g}s <= drain_delay {drain:g}s + "
                             f"shutdown_grace {grace:g}s")
        if binary:
            check_binary(binary, where, command, env, {})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("mode", choices=["k8s", "compose"])
    parser.add_argument("file")
    parser.add_argument("--k8s-version", action="append", default=None,
                        help="Kubernetes version whose schemas to validate against (repeatable)")
    parser.add_argument("--require-tagged-images", action="store_true")
    parser.add_argument("--external-secret", action="append", default=[],
                        help="a Secret created outside the manifests (referenced, not defined)")
    parser.add_argument("--resonance-bin", help="a built resonance binary to check config with")
    parser.add_argument("--label", help="what to call the file in the summary (its source)")
    args = parser.parse_args()

    with open(args.file) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    if args.mode == "k8s":
        versions = args.k8s_version or ["1.30.0"]
        check_k8s(docs, versions, args.require_tagged_images, set(args.external_secret),
                  args.resonance_bin)
        summary = f"{len(docs)} objects, schemas of Kubernetes {', '.join(versions)}"
    else:
        check_compose(docs[0], args.resonance_bin)
        summary = f"{len(docs[0].get('services', {}))} services"
    if args.resonance_bin:
        summary += ", config accepted by " + args.resonance_bin
    for line in errors:
        print(f"  ERROR {line}")
    print(f"  {args.label or args.file}: {summary}: {'FAILED' if errors else 'ok'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
