// Makes a throwaway certificate authority and server certificates with the openssl command, for the NTS tests.

/** Files of a test CA and one server certificate signed by it. */
export interface TestCertificates {
  readonly dir: string;
  readonly caFile: string;
  readonly certificateFile: string;
  readonly keyFile: string;
  /** A second, unrelated CA (clients trusting only it must refuse the server). */
  readonly otherCaFile: string;
  /** A certificate of the same CA that expired yesterday, with its key. */
  readonly expiredCertificateFile: string;
  readonly expiredKeyFile: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const result = await new Deno.Command("openssl", { args, cwd, stdin: "null" }).output();
  if (!result.success) {
    throw new Error(`openssl ${args.join(" ")} failed: ${new TextDecoder().decode(result.stderr)}`);
  }
}

/**
 * A CA and a P-256 server certificate for `names` (IP addresses or DNS names) in a new temporary
 * directory; remove `dir` when done.
 */
export async function makeTestCertificates(names: readonly string[]): Promise<TestCertificates> {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-ca-" });
  const san = names.map((name) => (/^[0-9.]+$|:/.test(name) ? `IP:${name}` : `DNS:${name}`)).join(
    ",",
  );
  await Deno.writeTextFile(
    `${dir}/server.ext`,
    `subjectAltName=${san}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
  );
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  for (const ca of ["ca", "other-ca"]) {
    await openssl([
      "req",
      "-x509",
      ...ec,
      "-keyout",
      `${ca}.key`,
      "-out",
      `${ca}.pem`,
      "-days",
      "30",
      "-subj",
      `/CN=ntp test ${ca}`,
    ], dir);
  }
  const sign = async (name: string, days: string[]) => {
    await openssl([
      "req",
      ...ec,
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      `/CN=${names[0]}`,
    ], dir);
    await openssl(
      [
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        `${name}.pem`,
        ...days,
        "-extfile",
        "server.ext",
      ],
      dir,
    );
  };
  await sign("server", ["-days", "30"]);
  // Expired: valid from two days ago to yesterday (openssl x509 cannot backdate; use ca -startdate).
  await sign("expired", ["-days", "30"]);
  await expire(dir);
  return {
    dir,
    caFile: `${dir}/ca.pem`,
    certificateFile: `${dir}/server.pem`,
    keyFile: `${dir}/server.key`,
    otherCaFile: `${dir}/other-ca.pem`,
    expiredCertificateFile: `${dir}/expired.pem`,
    expiredKeyFile: `${dir}/expired.key`,
  };
}

/** Re-signs expired.csr with a validity that ended yesterday (openssl ca takes explicit dates). */
async function expire(dir: string): Promise<void> {
  await Deno.writeTextFile(`${dir}/index.txt`, "");
  await Deno.writeTextFile(`${dir}/serial`, "1000\n");
  await Deno.writeTextFile(
    `${dir}/ca.cnf`,
    [
      "[ca]",
      "default_ca = test",
      "[test]",
      `dir = ${dir}`,
      "database = $dir/index.txt",
      "serial = $dir/serial",
      "new_certs_dir = $dir",
      "certificate = $dir/ca.pem",
      "private_key = $dir/ca.key",
      "default_md = sha256",
      "policy = anything",
      "copy_extensions = none",
      "[anything]",
      "commonName = supplied",
      "",
    ].join("\n"),
  );
  const day = 86400_000;
  const stamp = (ms: number) => new Date(ms).toISOString().replace(/[-:T]/g, "").slice(2, 14) + "Z";
  await openssl([
    "ca",
    "-batch",
    "-config",
    "ca.cnf",
    "-in",
    "expired.csr",
    "-out",
    "expired.pem",
    "-startdate",
    stamp(Date.now() - 3 * day),
    "-enddate",
    stamp(Date.now() - day),
    "-extfile",
    "server.ext",
    "-notext",
  ], dir);
}
