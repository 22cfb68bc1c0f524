// Validates a Teams app manifest with Microsoft's own offline validator (bundled schemas).
// Prints the list of problems as JSON: [] when valid.
const { AppManifestUtils } = require("@microsoft/app-manifest");
const fs = require("fs");
(async () => {
  const manifest = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
  console.log(JSON.stringify(await AppManifestUtils.validateAgainstSchema(manifest)));
})();
