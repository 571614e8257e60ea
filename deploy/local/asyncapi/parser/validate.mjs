// Parses an AsyncAPI document with the official parser and prints its diagnostics as JSON; exits 1 on an error.
//   node validate.mjs docs/asyncapi/partners.json
import { readFileSync } from "node:fs";
import { Parser } from "@asyncapi/parser";

const path = process.argv[2];
const parser = new Parser();
const { document, diagnostics } = await parser.parse(readFileSync(path, "utf8"), { source: path });
const severity = ["error", "warning", "information", "hint"];
const found = diagnostics.map((d) => ({
  severity: severity[d.severity] ?? String(d.severity),
  code: String(d.code),
  message: d.message,
  path: d.path.join("/"),
}));
const summary = document
  ? { version: document.version(), channels: document.channels().all().map((c) => c.address()),
      messages: document.messages().all().map((m) => m.name()) }
  : null;
console.log(JSON.stringify({ valid: Boolean(document), summary, diagnostics: found }));
process.exit(document && !found.some((d) => d.severity === "error") ? 0 : 1);
