// Lints a Dockerfile offline with dockerfile-utils (the Docker language server's validator: unknown
// instructions, malformed arguments, flags and JSON forms, bad ports...). No Docker engine needed.
//   node k8s/test/lint-dockerfile.mjs cluster-node/Dockerfile
// Prints one line per problem and exits 1 if there is any.
import { readFileSync } from "node:fs";
import { validate } from "dockerfile-utils";

let problems = 0;
for (const file of process.argv.slice(2)) {
  for (const diagnostic of validate(readFileSync(file, "utf8"))) {
    const severity = diagnostic.severity === 1 ? "error" : "warning";
    console.log(`${file}:${diagnostic.range.start.line + 1}: ${severity}: ${diagnostic.message}`);
    problems++;
  }
}
console.log(`dockerfile lint: ${problems} problem(s)`);
process.exit(problems === 0 && process.argv.length > 2 ? 0 : 1);
