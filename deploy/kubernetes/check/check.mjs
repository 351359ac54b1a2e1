// Checks a rendered overlay (multi-document YAML on stdin) offline, two ways:
// 1. kubernetes-models' validators (Kubernetes 1.30 OpenAPI and KEDA's CRD): types, formats, enums, required fields;
// 2. the same objects as TypeScript literals of kubernetes-types 1.30 and KEDA's types, compiled: a field the
//    schema does not know, at any depth, is an error (the validators above let unknown fields through).
// Prints one line per object and per problem; exits 1 when any object fails.
import { parseAllDocuments } from "yaml";
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const objects = parseAllDocuments(readFileSync(0, "utf8")).map(d => d.toJS()).filter(Boolean);
let failed = 0;
const typed = [];

for (const [i, obj] of objects.entries()) {
  const { apiVersion, kind } = obj;
  const name = `${kind} ${obj.metadata?.name}`;
  const keda = apiVersion.startsWith("keda.sh/");
  let Model;
  try {
    Model = (await import(keda ? `@kubernetes-models/keda/${apiVersion}/${kind}` : `kubernetes-models/${apiVersion}/${kind}`))[kind];
  } catch {
    console.log(`FAIL ${name}: no schema for ${apiVersion} ${kind}`);
    failed++;
    continue;
  }

  // The API server reads base64 with line breaks (as kustomize writes long values); the validator does not.
  const checked = kind === "Secret" && obj.data
    ? { ...obj, data: Object.fromEntries(Object.entries(obj.data).map(([k, v]) => [k, String(v).replace(/\s+/g, "")])) }
    : obj;
  try {
    new Model(checked).validate();
    console.log(`ok ${name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.message}`);
  }

  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["core", apiVersion];
  const module = keda ? `@kubernetes-models/keda/${apiVersion}/${kind}` : `kubernetes-types/${group.split(".")[0]}/${version}`;
  const type = keda ? `I${kind}` : kind;
  typed.push(`import type { ${type} as T${i} } from "${module}";\nexport const o${i}: T${i} = ${JSON.stringify(checked, null, 1)};\n// ${name}`);
}

// Written beside node_modules, so the types resolve as a package's own imports do.
const work = mkdtempSync(join(here, ".check-"));
writeFileSync(join(work, "objects.ts"), typed.join("\n"));
writeFileSync(join(work, "tsconfig.json"), JSON.stringify({
  compilerOptions: { strict: true, noEmit: true, module: "preserve", moduleResolution: "bundler", types: [] },
  files: [join(work, "objects.ts")],
}));
try {
  execFileSync(join(here, "node_modules", ".bin", "tsc"), ["-p", join(work, "tsconfig.json")], { stdio: "pipe" });
  console.log("ok field names (TypeScript types of Kubernetes 1.30 and KEDA)");
} catch (e) {
  failed++;
  const text = `${e.stdout ?? ""}${e.stderr ?? ""}`;
  for (const line of text.split("\n").filter(l => l.includes("error"))) console.log(`FAIL ${line}`);
}

rmSync(work, { recursive: true, force: true });
process.exit(failed ? 1 : 0);
