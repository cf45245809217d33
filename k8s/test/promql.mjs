// Parses PromQL expressions with Prometheus's own grammar (@prometheus-io/lezer-promql), offline.
//
//   echo '["rate(x[5m])", "sum by (le) (y"]' | node k8s/test/promql.mjs
//
// Reads a JSON array of expressions on stdin; prints one line per expression that does not parse
// and exits 1 if any does not. Grafana's variables ($__rate_interval, $namespace) are replaced by
// values of their kind first, as Grafana does before it sends a query.
import { readFileSync } from "node:fs";
import { parser } from "@prometheus-io/lezer-promql";

function substituteGrafanaVariables(expression) {
  return expression
    .replace(/\$__(rate_interval|interval|range)\b/g, "5m")
    .replace(/\$\{?[A-Za-z_][A-Za-z0-9_]*\}?/g, "x");
}

/** The position of the first syntax error, or -1. */
function firstError(expression) {
  let at = -1;
  parser.parse(expression).iterate({
    enter(node) {
      if (at < 0 && node.type.isError) {
        at = node.from;
      }
    },
  });
  return at;
}

const expressions = JSON.parse(readFileSync(0, "utf8"));
let failed = 0;
for (const expression of expressions) {
  const query = substituteGrafanaVariables(expression);
  const at = firstError(query);
  if (at >= 0) {
    console.log(`INVALID at ${at}: ${query}`);
    failed++;
  }
}
console.log(`promql: ${expressions.length - failed} valid, ${failed} invalid`);
process.exit(failed === 0 && expressions.length > 0 ? 0 : 1);
