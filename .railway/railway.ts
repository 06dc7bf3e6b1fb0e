// Railway Infrastructure as Code: the api, worker and bot-gateway services of one
// Railway environment, `dev` or `prod`. The Railway CLI evaluates this file for the
// environment its project token belongs to (`railway config plan` / `railway config
// apply`, run by scripts/railway-config and the release workflow) and changes that
// environment until it matches. scripts/lint type-checks it and checks what it
// declares; docs/deployment.md says what stays in the dashboard.
//
// Variables: every variable a service reads is declared here, either with a value
// (non-secret settings that follow from the environment) or as preserve(): the
// value set in the dashboard is kept and never written from here. A variable that
// is set in Railway but not declared here would be planned as a deletion; a
// non-interactive apply refuses any deletion (scripts/railway-config never passes
// --confirm-destructive), so a release never removes a secret.
import { defineRailway, preserve, project, service } from "railway/iac";
import type { RailwayContext, VariableValue } from "railway/iac";

type Deployment = "dev" | "prod";

// Where the replicas run: next to the Supabase project and the Upstash database.
const REGION = "us-east4-eqdc4a";
// The services finish or hand back their work within SHUTDOWN_GRACE_SECONDS of
// SIGTERM; Railway sends SIGKILL drainingSeconds after SIGTERM, so draining is longer.
const SHUTDOWN_GRACE_SECONDS = 25;
const DRAINING_SECONDS = 35;
// A new deployment goes live only once /health/ready answers 200 within this time.
const HEALTHCHECK_TIMEOUT_SECONDS = 120;

// Files every service image is built from, besides its own code and Dockerfile.
const SHARED_WATCH = [
  "/crates/shared-domain/**",
  "/crates/http-support/**",
  "/migrations/**",
  "/vendor/**",
  "/Cargo.toml",
  "/Cargo.lock",
];

/** The deployment a Railway environment name stands for, as the services read
 * APP_ENV / RAILWAY_ENVIRONMENT_NAME. Any other name stops the plan, so values
 * meant for one deployment can never be applied to another. */
function deployment(ctx: RailwayContext): Deployment {
  const name = (ctx.environment ?? ctx.environmentName ?? "").toLowerCase();
  switch (name) {
    case "dev":
    case "development":
      return "dev";
    case "prod":
    case "production":
      return "prod";
    default:
      throw new Error(
        `.railway/railway.ts manages the Railway environments dev and prod, not ${JSON.stringify(name)}` +
          " (no environment in the context means a Railway CLI older than the one the release pins)",
      );
  }
}

/** Variables whose values live only in Railway (secrets, URLs of the environment's
 * own Supabase/Upstash/Pipecat, tuning): declared so an apply keeps them. */
function kept(...names: string[]): Record<string, VariableValue> {
  return Object.fromEntries(names.map((name) => [name, preserve()]));
}

function readmeService(
  name: "api" | "worker" | "bot-gateway",
  options: {
    watch: string[];
    overlapSeconds: number;
    preDeploy?: string;
    env: Record<string, string | VariableValue>;
  },
) {
  return service(name, {
    // No source and no root directory: scripts/railway-up uploads the repository,
    // and its root is the build context of deploy/<service>.Dockerfile.
    build: {
      builder: "DOCKERFILE",
      dockerfilePath: `deploy/${name}.Dockerfile`,
      // A push that changes none of these does not redeploy the service. This
      // file is watched too, so a configuration change redeploys with it.
      watchPatterns: [...options.watch, ...SHARED_WATCH, `/deploy/${name}.Dockerfile`, "/.railway/railway.ts"],
    },
    preDeploy: options.preDeploy,
    healthcheck: "/health/ready",
    healthcheckTimeout: HEALTHCHECK_TIMEOUT_SECONDS,
    replicas: { [REGION]: 1 },
    deploy: {
      restartPolicyType: "ON_FAILURE",
      restartPolicyMaxRetries: 10,
      overlapSeconds: options.overlapSeconds,
      drainingSeconds: DRAINING_SECONDS,
    },
    env: options.env,
  });
}

export default defineRailway((ctx) => {
  const env = deployment(ctx);

  // Read by every service.
  const common = {
    APP_ENV: env,
    REDIS_NAMESPACE: `readme_${env}`,
    SHUTDOWN_GRACE_SECONDS: String(SHUTDOWN_GRACE_SECONDS),
    ...kept(
      "REDIS_URL",
      "REDIS_CA_CERT",
      "REDIS_CA_CERT_PATH",
      "REDIS_POOL_SIZE",
      "HOST",
      "LOG_FORMAT",
      "RUST_LOG",
      "OTEL_EXPORTER_OTLP_ENDPOINT",
      "OTEL_EXPORTER_OTLP_HEADERS",
      "OTEL_RESOURCE_ATTRIBUTES",
      "OTEL_TRACES_SAMPLER",
      "OTEL_TRACES_SAMPLER_ARG",
      "METRICS_TOKEN",
    ),
  };

  // Postgres and object storage: the api and the worker. The api's pre-deploy
  // command migrates, so neither migrates on start.
  const store = {
    MIGRATE_ON_START: "false",
    STORAGE_URL: `s3://readme_${env}/`,
    S3_FORCE_PATH_STYLE: "true",
    ...kept(
      "DATABASE_URL",
      "DATABASE_MAX_CONNECTIONS",
      "DATABASE_CONNECT_TIMEOUT_SECONDS",
      "DATABASE_STATEMENT_TIMEOUT_SECONDS",
      "DATABASE_LOCK_TIMEOUT_SECONDS",
      "DATABASE_CA_CERT",
      "DATABASE_CA_CERT_PATH",
      "AWS_ENDPOINT_URL",
      "AWS_REGION",
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
      "GOOGLE_SERVICE_ACCOUNT_PATH",
      "GOOGLE_SERVICE_ACCOUNT_KEY",
      "STORAGE_EMULATOR_HOST",
    ),
  };

  // Supabase user tokens and request-body deadlines: the api and the bot gateway.
  const userAuth = {
    JWT_AUDIENCE: "authenticated",
    ...kept(
      "SERVICE_API_TOKEN",
      "SUPABASE_JWT_SECRET",
      "SUPABASE_JWKS_URL",
      "JWT_HOUSEHOLD_CLAIM",
      "ALLOWED_ORIGINS",
      "BODY_IDLE_TIMEOUT_SECONDS",
      "BODY_MIN_BYTES_PER_SECOND",
    ),
  };

  const api = readmeService("api", {
    watch: ["/services/api/**"],
    overlapSeconds: 10,
    // Migrations under the advisory lock, before any new code starts.
    preDeploy: "/usr/local/bin/api migrate",
    env: {
      ...common,
      ...store,
      ...userAuth,
      ...kept(
        "ADMIN_API_TOKEN",
        "MAX_UPLOAD_BYTES",
        "MAX_JOB_ATTEMPTS",
        "UPLOAD_BUFFER_MIB",
        "UPLOAD_BUFFER_WAIT_SECONDS",
      ),
    },
  });

  // No overlap: the old worker stops taking jobs before the new one starts. Its
  // /health/ready is served on the PORT Railway injects (HEALTH_PORT stays unset).
  const worker = readmeService("worker", {
    watch: ["/services/worker/**", "/services/api/**"],
    overlapSeconds: 0,
    env: {
      ...common,
      ...store,
      ...kept(
        "WORKER_CONCURRENCY",
        "VISIBILITY_TIMEOUT_SECONDS",
        "RETRY_BASE_SECONDS",
        "RETRY_MAX_SECONDS",
        "QUEUE_BLOCK_MS",
        "TEXT_ENGINES",
        "PDFTOTEXT_PATH",
        "EXTRACT_PARALLELISM",
        "EXTRACT_MEMORY_MB",
        "EXTRACT_TIMEOUT_SECONDS",
        "MAX_PAGES",
        "OCR_ENABLED",
        "TESSERACT_PATH",
        "PDFTOPPM_PATH",
        "OCR_LANGUAGES",
        "OCR_DPI",
        "OCR_TIMEOUT_SECONDS",
        "CHUNK_TARGET_CHARS",
        "CHUNK_MAX_CHARS",
        "SENTENCE_MAX_CHARS",
        "LINKS_SPOKEN",
        "NOTES_SPOKEN",
        "WORK_DIR",
        "SWEEP_INTERVAL_SECONDS",
        "SWEEPER_LEASE_SECONDS",
        "REPUBLISH_AFTER_SECONDS",
        "RETENTION_INTERVAL_SECONDS",
        "DEAD_LETTER_RETENTION_DAYS",
        "OBJECT_RETENTION_DAYS",
        "RETENTION_DRY_RUN",
      ),
    },
  });

  const botGateway = readmeService("bot-gateway", {
    watch: ["/services/bot-gateway/**"],
    overlapSeconds: 10,
    env: {
      ...common,
      ...userAuth,
      ...kept(
        "BOT_START_URL",
        "BOT_START_PUBLIC_API_KEY",
        "PIPECAT_PRIVATE_API_KEY",
        "BOT_DEFAULT_TRANSPORT",
        "BOT_DAILY_ROOM_PROPERTIES",
        "BOT_BODY_FIELDS",
        "CALL_STATE_TTL_SECONDS",
        "ACTIVE_CALL_TTL_SECONDS",
        "START_RATE_LIMIT",
        "START_RATE_WINDOW_SECONDS",
        "BOT_START_CONNECT_TIMEOUT_SECONDS",
        "BOT_START_TIMEOUT_SECONDS",
      ),
    },
  });

  return project("readme", {
    resources: [api, worker, botGateway],
  });
});
