// Check .railway/railway.ts without a Railway account, for scripts/lint:
//
//  1. tsc type-checks it (strict, and only TypeScript that Node can strip, as the
//     Railway CLI runs it with `node --experimental-strip-types`) against the type
//     definitions of the railway/iac SDK it imports, and writes the JavaScript into
//     the tools directory;
//  2. that JavaScript is evaluated the way the CLI evaluates the file: the default
//     export called with the SDK's createRailwayContext({ environment, ... }) and a
//     project factory, for `dev` and `prod` (`development` and `production` must
//     give the same projects); an unknown or missing environment must stop the
//     evaluation;
//  3. the project it returns is checked: exactly the api, worker and bot-gateway
//     services, each built from deploy/<service>.Dockerfile with watch patterns that
//     match files, a readiness health check, a restart policy, replicas in one
//     region, draining longer than SHUTDOWN_GRACE_SECONDS, the api's pre-deploy
//     migration; variables as values or preserve(), no secret as a value, nothing
//     named for the other environment, and per service exactly the variables
//     docs/release-env-matrix.md says it reads (a variable set in Railway but not
//     declared would be planned as a deletion, which stops the release).
//
// The projects land in TOOLS/out/<environment>.json for a look.
//
//     node scripts/lib/check_railway_iac.mjs REPO_ROOT TOOLS_DIR
//
// TOOLS_DIR holds node_modules with `typescript` and `railway` (scripts/lint
// installs them).

import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";

const [repoArg, toolsArg] = process.argv.slice(2);
if (!repoArg || !toolsArg) {
  console.error("usage: node scripts/lib/check_railway_iac.mjs REPO_ROOT TOOLS_DIR");
  process.exit(2);
}
const repo = resolve(repoArg);
const tools = resolve(toolsArg);
const railwayDir = join(repo, ".railway");
const source = join(railwayDir, "railway.ts");
const shown = relative(process.cwd(), source) || source;
const outDir = join(tools, "out");

const SERVICES = ["api", "worker", "bot-gateway"];
// Variables the services read that must not be declared: Railway injects PORT, and
// the worker's health check only works with HEALTH_PORT unset (it then serves on PORT).
const NOT_DECLARED = { api: ["PORT"], worker: ["PORT", "HEALTH_PORT"], "bot-gateway": ["PORT"] };
const SHUTDOWN_GRACE_DEFAULT = 25;
const SECRET_NAME =
  /(^|_)(TOKEN|SECRET|PASSWORD|KEY|KEY_ID|CERT|CERT_PATH)(_|$)|^(DATABASE_URL|REDIS_URL|SUPABASE_JWKS_URL|BOT_START_URL)$/;
const ENVIRONMENTS = [
  { name: "dev", deployment: "dev" },
  { name: "prod", deployment: "prod" },
];
// Railway environment names that mean the same deployments (as APP_ENV reads them).
const ALIASES = { development: "dev", production: "prod" };

const errors = [];
const fail = (message) => errors.push(message);

// --- 1. tsc ---------------------------------------------------------------------

mkdirSync(outDir, { recursive: true });
const tsconfig = join(tools, "tsconfig.json");
writeFileSync(
  tsconfig,
  JSON.stringify(
    {
      extends: join(railwayDir, "tsconfig.json"),
      compilerOptions: {
        paths: { "railway/iac": [join(tools, "node_modules/railway/dist/iac/index.d.ts")] },
        noEmit: false,
        noEmitOnError: true,
        rootDir: railwayDir,
        outDir,
      },
      files: [source],
    },
    null,
    2,
  ),
);
const tsc = spawnSync(join(tools, "node_modules/.bin/tsc"), ["-p", tsconfig, "--pretty", "false"], {
  encoding: "utf8",
});
if (tsc.error || tsc.status !== 0) {
  process.stdout.write(tsc.stdout ?? "");
  process.stderr.write(tsc.stderr ?? "");
  console.log(`${shown}: tsc failed${tsc.error ? `: ${tsc.error.message}` : ""}`);
  process.exit(1);
}

// --- 2. evaluate as the CLI does ------------------------------------------------

const iac = await import(pathToFileURL(join(tools, "node_modules/railway/dist/iac/index.js")).href);
const compiled = pathToFileURL(join(outDir, "railway.js")).href;

async function evaluate(input, label) {
  const ctx = input === null ? {} : iac.createRailwayContext(input);
  const mod = await import(`${compiled}?environment=${encodeURIComponent(label)}`);
  let exported = mod.default ?? mod.main ?? mod.Railway ?? mod;
  while (exported && typeof exported === "object" && "default" in exported && exported.name == null && exported.resources == null) {
    exported = exported.default;
  }
  const projectFactory = (name, definition = {}) => ({
    name,
    ...definition,
    resources: (definition.resources ?? definition.services ?? []).flat(),
  });
  const project = typeof exported === "function" ? await exported(ctx, projectFactory) : exported;
  // What the CLI reads back: JSON, resources flattened.
  const graph = JSON.parse(JSON.stringify(project));
  graph.resources = (graph.resources ?? graph.services ?? []).flat(Infinity);
  return graph;
}

function contextFor(name) {
  return {
    command: "plan",
    projectId: "lint",
    projectName: "readme",
    environmentId: `lint-${name}`,
    environment: name,
    environmentName: name,
  };
}

for (const [label, input] of [
  ["no environment (what older CLIs passed)", null],
  ["staging", contextFor("staging")],
]) {
  try {
    await evaluate(input, label);
    fail(`evaluated for ${label}: must stop instead (only dev and prod are managed)`);
  } catch {
    // Expected: the file refuses an environment it does not manage.
  }
}

// --- 3. what it declares --------------------------------------------------------

function matrix() {
  // Per service, the variables docs/release-env-matrix.md says it reads.
  const path = join(repo, "docs/release-env-matrix.md");
  const reads = Object.fromEntries(SERVICES.map((s) => [s, new Set()]));
  const all = new Set();
  let columns = null;
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (!line.startsWith("|")) continue;
    const cells = line.split("|").slice(1, -1).map((c) => c.trim());
    if (cells[0] === "variable") {
      columns = Object.fromEntries(SERVICES.map((s) => [s, cells.indexOf(s)]));
      continue;
    }
    if (!columns) continue;
    let previous = null;
    const names = [];
    for (const [, name] of cells[0].matchAll(/`(_?[A-Z][A-Z0-9_]*)`/g)) {
      // `GOOGLE_SERVICE_ACCOUNT_PATH` / `_KEY` names GOOGLE_SERVICE_ACCOUNT_KEY.
      const full = name.startsWith("_") && previous ? previous.replace(/_[A-Z0-9]+$/, name) : name;
      names.push(full);
      previous = full;
    }
    for (const name of names) {
      all.add(name);
      for (const s of SERVICES) {
        const cell = cells[columns[s]] ?? "";
        if (cell !== "" && !/^[—–-]$/.test(cell)) reads[s].add(name);
      }
    }
  }
  if (all.size === 0) fail("docs/release-env-matrix.md: no variable table found");
  return { reads, all };
}

function fileExists(pattern) {
  const base = pattern.replace(/^\//, "").split("*")[0].replace(/\/$/, "");
  return base === "" || existsSync(join(repo, base));
}

function isPositiveInt(value) {
  return Number.isInteger(value) && value > 0;
}

const { reads, all: documented } = matrix();
const graphs = {};

for (const { name, deployment } of ENVIRONMENTS) {
  let graph;
  try {
    graph = await evaluate(contextFor(name), name);
  } catch (error) {
    fail(`evaluated for ${name}: ${error?.message ?? error}`);
    continue;
  }
  graphs[name] = graph;
  writeFileSync(join(outDir, `${name}.json`), `${JSON.stringify(graph, null, 2)}\n`);
  const at = (service, what) => `${name}: ${service}: ${what}`;

  const byName = new Map();
  for (const resource of graph.resources) {
    const address = resource.address ?? `${resource.type ?? "service"}.${resource.name}`;
    if (resource.type !== "service" || !SERVICES.includes(resource.name)) {
      fail(`${name}: ${address}: not one of the services api, worker, bot-gateway (Postgres, Redis and storage are Supabase's and Upstash's)`);
      continue;
    }
    if (byName.has(resource.name)) fail(`${name}: ${address} declared twice`);
    byName.set(resource.name, resource);
  }
  for (const service of SERVICES) {
    if (!byName.has(service)) fail(`${name}: service ${service} is not declared (an apply would delete it)`);
  }

  for (const [service, resource] of byName) {
    if (resource.source !== undefined) {
      fail(at(service, "has a source: the services have none (scripts/railway-up uploads the commit)"));
    }
    const build = resource.build ?? {};
    const dockerfile = `deploy/${service}.Dockerfile`;
    if (build.builder !== "DOCKERFILE") fail(at(service, `build.builder is ${build.builder}, not DOCKERFILE`));
    if (build.dockerfilePath !== dockerfile) fail(at(service, `build.dockerfilePath is ${build.dockerfilePath}, not ${dockerfile}`));
    if (!existsSync(join(repo, dockerfile))) fail(at(service, `${dockerfile} does not exist`));
    const patterns = build.watchPatterns ?? [];
    if (patterns.length === 0) fail(at(service, "no build.watchPatterns: every push would rebuild it"));
    for (const pattern of patterns) {
      if (typeof pattern !== "string" || !pattern.startsWith("/")) fail(at(service, `watch pattern ${JSON.stringify(pattern)} should start with /`));
      else if (!fileExists(pattern)) fail(at(service, `watch pattern ${pattern} matches nothing in the repository`));
    }
    for (const needed of [`/${dockerfile}`, "/.railway/railway.ts"]) {
      if (patterns.length > 0 && !patterns.includes(needed)) fail(at(service, `watch patterns lack ${needed}`));
    }

    const deploy = resource.deploy ?? {};
    if (deploy.healthcheckPath !== "/health/ready") fail(at(service, `health check on ${deploy.healthcheckPath}, not /health/ready`));
    if (!isPositiveInt(deploy.healthcheckTimeout)) fail(at(service, "healthcheckTimeout should be a positive number of seconds"));
    if (deploy.restartPolicyType !== "ON_FAILURE") fail(at(service, `restartPolicyType is ${deploy.restartPolicyType}, not ON_FAILURE`));
    if (!isPositiveInt(deploy.restartPolicyMaxRetries)) fail(at(service, "restartPolicyMaxRetries should be a positive number"));
    const regions = Object.entries(deploy.multiRegionConfig ?? {});
    if (regions.length !== 1 || !isPositiveInt(regions[0][1]?.numReplicas)) {
      fail(at(service, "replicas should be { region: count } with one region and a positive count"));
    }
    if (deploy.startCommand !== undefined) fail(at(service, "has a start command: the Dockerfile's CMD starts the service"));
    if (!Number.isInteger(deploy.overlapSeconds) || deploy.overlapSeconds < 0) fail(at(service, "overlapSeconds should be set (0 or more)"));

    const variables = resource.variables ?? {};
    const grace = variables.SHUTDOWN_GRACE_SECONDS?.type === "literal"
      ? Number(variables.SHUTDOWN_GRACE_SECONDS.value)
      : SHUTDOWN_GRACE_DEFAULT;
    if (!(Number.isInteger(deploy.drainingSeconds) && deploy.drainingSeconds > grace)) {
      fail(at(service, `drainingSeconds (${deploy.drainingSeconds}) should be more than SHUTDOWN_GRACE_SECONDS (${grace}), or Railway kills it while it drains`));
    }

    const preDeploy = deploy.preDeployCommand;
    if (service === "api") {
      if (!Array.isArray(preDeploy) || !preDeploy.some((c) => /(^|\/)api migrate$/.test(c))) {
        fail(at(service, "the pre-deploy command should run `api migrate`"));
      }
    } else if (preDeploy !== undefined) {
      fail(at(service, "has a pre-deploy command: only the api migrates"));
    }

    // Variables.
    for (const [key, value] of Object.entries(variables)) {
      if (!documented.has(key)) {
        fail(at(service, `${key} is not in docs/release-env-matrix.md`));
      } else if (!reads[service].has(key)) {
        fail(at(service, `declares ${key}, which docs/release-env-matrix.md says it does not read`));
      }
      if (NOT_DECLARED[service].includes(key)) fail(at(service, `declares ${key}: leave it to Railway (unset)`));
      if (value?.type === "preserve") continue;
      if (value?.type !== "literal" || typeof value.value !== "string") {
        fail(at(service, `${key} should be a string value or preserve(), not ${JSON.stringify(value)}`));
        continue;
      }
      if (SECRET_NAME.test(key)) fail(at(service, `${key} has a value in the file: a secret or credential belongs in Railway (preserve())`));
      if (/:\/\/[^/\s]*@/.test(value.value)) fail(at(service, `${key} carries credentials in its URL`));
      for (const [word] of value.value.matchAll(/[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)+/g)) {
        const suffix = word.split(/[_-]/).pop().toLowerCase();
        const owner = { development: "dev", production: "prod" }[suffix] ?? suffix;
        if (["dev", "prod", "staging"].includes(owner) && owner !== deployment) {
          fail(at(service, `${key}=${value.value} names ${owner}, but this is ${deployment}`));
        }
      }
    }
    if (variables.APP_ENV?.type === "literal" && variables.APP_ENV.value !== deployment) {
      fail(at(service, `APP_ENV is ${variables.APP_ENV.value}, not ${deployment}`));
    }
    if (["api", "worker"].includes(service) && variables.MIGRATE_ON_START?.value !== "false") {
      fail(at(service, "MIGRATE_ON_START should be \"false\": the api's pre-deploy command migrates"));
    }
    for (const key of reads[service]) {
      if (!(key in variables) && !NOT_DECLARED[service].includes(key)) {
        fail(at(service, `docs/release-env-matrix.md says it reads ${key}: declare it (preserve() unless it has a non-secret value), or an apply would delete it once it is set in Railway`));
      }
    }
  }
}

for (const [alias, name] of Object.entries(ALIASES)) {
  try {
    const graph = await evaluate(contextFor(alias), alias);
    if (graphs[name] && JSON.stringify(graph) !== JSON.stringify(graphs[name])) {
      fail(`evaluated for ${alias}: differs from ${name}, which it stands for`);
    }
  } catch (error) {
    fail(`evaluated for ${alias} (the same as ${name}): ${error?.message ?? error}`);
  }
}

// The same resources whatever the environment (newer CLIs evaluate the file for
// every environment and refuse one declared only in some).
const addresses = Object.entries(graphs).map(([env, g]) => [env, g.resources.map((r) => r.address).sort().join(",")]);
for (const [env, list] of addresses) {
  if (list !== addresses[0][1]) fail(`${env} declares ${list}, but ${addresses[0][0]} declares ${addresses[0][1]}`);
}

if (errors.length > 0) {
  for (const error of errors) console.log(`${shown}: ${error}`);
  process.exit(1);
}
for (const env of ["dev", "prod"]) {
  const graph = graphs[env];
  const summary = graph.resources.map((r) => {
    const vars = Object.values(r.variables ?? {});
    const set = vars.filter((v) => v.type !== "preserve").length;
    return `${r.name} (${set} set, ${vars.length - set} kept)`;
  });
  console.log(`${shown} for ${env}: ${summary.join(", ")}; see ${relative(process.cwd(), join(outDir, `${env}.json`))}`);
}
