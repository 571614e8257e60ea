// Renders an AsyncAPI document as one HTML page with AsyncAPI's generator and its HTML template.
//   node render.cjs docs/asyncapi/partners.json <output dir> partners.html
const path = require("node:path");
const Generator = require("@asyncapi/generator");

(async () => {
  const [source, out, filename] = process.argv.slice(2);
  const template = path.join(__dirname, "node_modules", "@asyncapi", "html-template");
  const generator = new Generator(template, path.resolve(out), {
    forceWrite: true, install: false, templateParams: { singleFile: "true", outFilename: filename },
  });
  await generator.generateFromFile(path.resolve(source));
})().catch((error) => { console.error(error); process.exit(1); });
