#!/usr/bin/env bash
# npm audit of the runtime dependencies (what `npm install --omit=dev` installs), run by scripts/test-all.sh.
# Policy: a high or critical advisory fails the suite; moderate and low are printed and reviewed by hand
# (docs/reliability.md, "npm audit"). When the advisory endpoint cannot be asked (offline, or a registry
# mirror without the bulk endpoint: HTTP 405), it says so and passes, unless PCM_AUDIT_REQUIRED=1.
set -euo pipefail
cd "$(dirname "$0")/.."
json=$(npm audit --omit=dev --json 2>/dev/null || true)
AUDIT_JSON=$json node -e '
const required = process.env.PCM_AUDIT_REQUIRED === "1";
let a;
try { a = JSON.parse(process.env.AUDIT_JSON || ""); } catch { a = { message: "no JSON answer" }; }
const v = a.metadata && a.metadata.vulnerabilities;
if (!v) {
  const why = String((a.error && (a.error.summary || a.error.code)) || a.message || "no answer").split("\n")[0];
  console.log(`npm audit: unavailable (${why})${required ? "" : "; not failing (PCM_AUDIT_REQUIRED=1 to fail)"}`);
  process.exit(required ? 1 : 0);
}
const line = ["critical", "high", "moderate", "low", "info"].map((s) => `${v[s] ?? 0} ${s}`).join(", ");
console.log(`npm audit --omit=dev: ${line}`);
for (const [name, x] of Object.entries(a.vulnerabilities || {})) console.log(`  ${x.severity} ${name} ${x.range || ""}`);
process.exit((v.critical ?? 0) + (v.high ?? 0) > 0 ? 1 : 0);
'
