// Validates Kubernetes objects against the API's schemas, offline (the kubernetes-models package:
// the OpenAPI schemas of Kubernetes, and of the Prometheus operator's resources, compiled to validators).
//
//   kubectl kustomize k8s/overlays/prod | node k8s/test/validate.mjs
//   node k8s/test/validate.mjs file.yaml...
//
// Prints one line per object and exits 1 if any object is invalid or of a kind it has no schema for
// (an unknown kind is a typo or a resource the cluster may not have: never passed silently).
// The schemas do not forbid unknown fields; the policy tests (KubernetesManifestsTest) check the
// fields that matter by path.
import { readFileSync } from "node:fs";
import { parseAllDocuments } from "yaml";

/** apiVersion → the module holding its models. */
function modulePath(apiVersion, kind) {
  if (apiVersion === "monitoring.coreos.com/v1") {
    return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/${kind}`;
  }
  return `kubernetes-models/${apiVersion}/${kind}`; // "v1" is the core group, "apps/v1", ...
}

async function validate(object) {
  const { apiVersion, kind } = object ?? {};
  const name = `${kind}/${object?.metadata?.name}`;
  if (typeof apiVersion !== "string" || typeof kind !== "string") {
    return `${name}: no apiVersion or kind`;
  }
  let Model;
  try {
    Model = (await import(modulePath(apiVersion, kind)))[kind];
  } catch {
    Model = undefined;
  }
  if (typeof Model !== "function") {
    return `${name}: no schema for ${apiVersion} ${kind}`;
  }
  try {
    new Model(object).validate();
    return null;
  } catch (error) {
    return `${name}: ${error.message}`;
  }
}

const sources = process.argv.length > 2
  ? process.argv.slice(2).map((file) => readFileSync(file, "utf8"))
  : [readFileSync(0, "utf8")];
let passed = 0;
let failed = 0;
for (const source of sources) {
  for (const document of parseAllDocuments(source)) {
    if (document.errors.length > 0) {
      console.log(`invalid YAML: ${document.errors.map((e) => e.message).join("; ")}`);
      failed++;
      continue;
    }
    const object = document.toJS();
    if (object === null) {
      continue; // an empty document
    }
    const problem = await validate(object);
    if (problem) {
      console.log(`INVALID ${problem}`);
      failed++;
    } else {
      console.log(`valid ${object.apiVersion} ${object.kind}/${object.metadata?.name}`);
      passed++;
    }
  }
}
console.log(`schemas: ${passed} valid, ${failed} invalid`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
