"""Check deploy/railway/*.json against what Railway's config-as-code reference
documents (https://docs.railway.com/config-as-code/reference), for scripts/lint.

Railway publishes its schema only at https://railway.com/railway.schema.json, which
this machine cannot fetch, so the keys and types below are the documented ones. A
misspelt key (Railway ignores what it does not know) or a wrong type fails here
instead of silently on the first deploy.

    python3 scripts/lib/check_railway_config.py REPO_ROOT FILE...
"""

import json
import pathlib
import sys

SCHEMA_URL = "https://railway.com/railway.schema.json"
BUILD = {
    "builder": str,
    "watchPatterns": list,
    "buildCommand": (str, type(None)),
    "dockerfilePath": (str, type(None)),
    "railpackVersion": (str, type(None)),
}
DEPLOY = {
    "startCommand": (str, type(None)),
    "preDeployCommand": list,
    "multiRegionConfig": (dict, type(None)),
    "healthcheckPath": (str, type(None)),
    "healthcheckTimeout": (int, type(None)),
    "restartPolicyType": str,
    "restartPolicyMaxRetries": (int, type(None)),
    "cronSchedule": (str, type(None)),
    "overlapSeconds": (int, type(None)),
    "drainingSeconds": (int, type(None)),
}
BUILDERS = {"RAILPACK", "DOCKERFILE"}
RESTART_POLICIES = {"ON_FAILURE", "ALWAYS", "NEVER"}
# The services drain for SHUTDOWN_GRACE_SECONDS (default 25) after SIGTERM; Railway
# sends SIGKILL drainingSeconds after SIGTERM, so draining must be longer.
SHUTDOWN_GRACE_SECONDS = 25


def check(root: pathlib.Path, path: pathlib.Path) -> list[str]:
    errors = []
    try:
        config = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        return [f"not valid JSON: {e}"]
    if config.get("$schema") != SCHEMA_URL:
        errors.append(f"$schema should be {SCHEMA_URL}")
    for key in config:
        if key not in ("$schema", "build", "deploy", "environments"):
            errors.append(f"unknown top-level key {key!r}")

    def section(name, allowed, value, where):
        if not isinstance(value, dict):
            errors.append(f"{where}: should be an object")
            return
        for key, v in value.items():
            if key not in allowed:
                errors.append(f"{where}.{key}: not a documented key (misspelt?)")
            elif isinstance(v, bool) or not isinstance(v, allowed[key]):
                errors.append(f"{where}.{key}: wrong type {type(v).__name__}")

    build = config.get("build", {})
    deploy = config.get("deploy", {})
    section("build", BUILD, build, "build")
    section("deploy", DEPLOY, deploy, "deploy")
    for env, overrides in config.get("environments", {}).items():
        section("build", BUILD, overrides.get("build", {}), f"environments.{env}.build")
        section("deploy", DEPLOY, overrides.get("deploy", {}), f"environments.{env}.deploy")

    if build.get("builder") not in BUILDERS:
        errors.append(f"build.builder should be one of {sorted(BUILDERS)}")
    dockerfile = build.get("dockerfilePath")
    if build.get("builder") == "DOCKERFILE":
        if not dockerfile or not (root / dockerfile).is_file():
            errors.append(f"build.dockerfilePath {dockerfile!r} is not a file in the repository")
    patterns = build.get("watchPatterns", [])
    if not all(isinstance(p, str) and p for p in patterns):
        errors.append("build.watchPatterns should be non-empty strings")
    elif patterns:
        if dockerfile and f"/{dockerfile}" not in patterns:
            errors.append(f"build.watchPatterns should include /{dockerfile}")
        if f"/{path.relative_to(root)}" not in patterns:
            errors.append(f"build.watchPatterns should include this file, /{path.relative_to(root)}")
        for p in patterns:
            base = p.lstrip("/").split("*")[0].rstrip("/")
            if base and not (root / base).exists():
                errors.append(f"build.watchPatterns: {p} matches nothing in the repository")

    pre = deploy.get("preDeployCommand")
    if pre is not None and not (pre and all(isinstance(c, str) and c.strip() for c in pre)):
        errors.append("deploy.preDeployCommand should be a list of command strings")
    health = deploy.get("healthcheckPath")
    if health is not None and not health.startswith("/"):
        errors.append("deploy.healthcheckPath should start with /")
    if deploy.get("restartPolicyType") not in RESTART_POLICIES:
        errors.append(f"deploy.restartPolicyType should be one of {sorted(RESTART_POLICIES)}")
    for region, placement in (deploy.get("multiRegionConfig") or {}).items():
        replicas = placement.get("numReplicas") if isinstance(placement, dict) else None
        if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 1:
            errors.append(f"deploy.multiRegionConfig.{region}.numReplicas should be a positive integer")
    draining = deploy.get("drainingSeconds")
    if not isinstance(draining, int) or draining <= SHUTDOWN_GRACE_SECONDS:
        errors.append(
            f"deploy.drainingSeconds should be more than SHUTDOWN_GRACE_SECONDS ({SHUTDOWN_GRACE_SECONDS}), "
            "or Railway kills a draining service before it is done"
        )
    return errors


def main() -> int:
    root = pathlib.Path(sys.argv[1]).resolve()
    failed = False
    for name in sys.argv[2:]:
        path = pathlib.Path(name).resolve()
        for error in check(root, path):
            print(f"{path.relative_to(root)}: {error}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
