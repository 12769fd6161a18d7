// Tests of scripts/install.sh in a temporary DESTDIR: what it installs, that it keeps a changed config, that --dry-run changes nothing, and that it never runs systemctl there.
import assert from "node:assert/strict";

const repoRoot = decodeURIComponent(new URL("../../", import.meta.url).pathname).replace(/\/$/, "");
const script = `${repoRoot}/scripts/install.sh`;

/** A scratch area: a stand-in binary, a DESTDIR, and a PATH dir with a systemctl that records calls. */
async function scratch(): Promise<
  AsyncDisposable & { dir: string; destdir: string; binary: string; systemctlLog: string }
> {
  const dir = await Deno.makeTempDir({ prefix: "ntpt-install-" });
  const binary = `${dir}/ntp-binary`;
  await Deno.writeTextFile(binary, "#!/bin/sh\necho ntp 0.1.0\n");
  await Deno.mkdir(`${dir}/bin`);
  const systemctlLog = `${dir}/systemctl.log`;
  await Deno.writeTextFile(
    `${dir}/bin/systemctl`,
    `#!/bin/sh\necho "systemctl $*" >> '${systemctlLog}'\n`,
    { mode: 0o755 },
  );
  return {
    dir,
    destdir: `${dir}/root`,
    binary,
    systemctlLog,
    [Symbol.asyncDispose]: () => Deno.remove(dir, { recursive: true }),
  };
}

async function install(
  args: readonly string[],
  env: Record<string, string>,
  pathDir: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command("bash", {
    args: [script, ...args],
    env: { ...env, PATH: `${pathDir}:${Deno.env.get("PATH") ?? "/usr/bin:/bin"}` },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Every path under `root` with its mode and (for files) content, for before/after comparisons. */
async function tree(root: string): Promise<Record<string, string>> {
  const entries: Record<string, string> = {};
  const walk = async (dir: string) => {
    for await (const entry of Deno.readDir(dir)) {
      const path = `${dir}/${entry.name}`;
      const stat = await Deno.lstat(path);
      const mode = (stat.mode! & 0o7777).toString(8);
      if (entry.isDirectory) {
        entries[path.slice(root.length)] = `dir ${mode}`;
        await walk(path);
      } else entries[path.slice(root.length)] = `${mode} ${await Deno.readTextFile(path)}`;
    }
  };
  if (await Deno.stat(root).then(() => true, () => false)) await walk(root);
  return entries;
}

Deno.test("install.sh puts the binary, config, unit and directories under DESTDIR, with their modes", async () => {
  await using s = await scratch();
  const result = await install(["--binary", s.binary], { DESTDIR: s.destdir }, `${s.dir}/bin`);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const files = await tree(s.destdir);
  assert.equal(files["/usr/local/bin/ntp"], `755 ${await Deno.readTextFile(s.binary)}`);
  assert.equal(
    files["/etc/ntp/ntp.toml"],
    `644 ${await Deno.readTextFile(`${repoRoot}/conf/ntp.toml`)}`,
  );
  assert.equal(
    files["/etc/ntp/candidates.txt"],
    `644 ${await Deno.readTextFile(`${repoRoot}/conf/candidates.txt`)}`,
  );
  assert.equal(
    files["/etc/systemd/system/ntp.service"],
    `644 ${await Deno.readTextFile(`${repoRoot}/conf/ntp.service`)}`,
  );
  assert.equal(
    files["/etc/systemd/system/ntp.socket"],
    `644 ${await Deno.readTextFile(`${repoRoot}/conf/ntp.socket`)}`,
  );
  assert.equal(files["/var/lib/ntp"], "dir 755");
  assert.equal(files["/var/log/ntp"], "dir 755");
  assert.equal(await Deno.stat(s.systemctlLog).then(() => true, () => false), false);
  assert.match(result.stdout, /DESTDIR is set: systemctl not run/);
});

Deno.test("install.sh run twice keeps a changed config, offers the shipped one as .new, and updates the binary", async () => {
  await using s = await scratch();
  const env = { DESTDIR: s.destdir };
  assert.equal((await install(["--binary", s.binary], env, `${s.dir}/bin`)).code, 0);
  const config = `${s.destdir}/etc/ntp/ntp.toml`;
  const changed = `${await Deno.readTextFile(config)}\n# changed by the operator\n`;
  await Deno.writeTextFile(config, changed);
  await Deno.writeTextFile(s.binary, "#!/bin/sh\necho ntp 0.2.0\n");

  const second = await install(["--binary", s.binary], env, `${s.dir}/bin`);
  assert.equal(second.code, 0, second.stdout + second.stderr);
  assert.equal(await Deno.readTextFile(config), changed);
  assert.equal(
    await Deno.readTextFile(`${config}.new`),
    await Deno.readTextFile(`${repoRoot}/conf/ntp.toml`),
  );
  assert.match(second.stdout, /ntp\.toml exists and is kept/);
  assert.equal(
    await Deno.readTextFile(`${s.destdir}/usr/local/bin/ntp`),
    "#!/bin/sh\necho ntp 0.2.0\n",
  );

  // A third run with the config back to the shipped one writes no .new and says so.
  await Deno.remove(`${config}.new`);
  await Deno.copyFile(`${repoRoot}/conf/ntp.toml`, config);
  const third = await install(["--binary", s.binary], env, `${s.dir}/bin`);
  assert.equal(third.code, 0, third.stdout + third.stderr);
  assert.match(third.stdout, /ntp\.toml is already the shipped config/);
  assert.equal(await Deno.stat(`${config}.new`).then(() => true, () => false), false);
  assert.equal(await Deno.stat(s.systemctlLog).then(() => true, () => false), false);
});

Deno.test("install.sh --dry-run prints every step and changes nothing, on a fresh or an existing install", async () => {
  await using s = await scratch();
  const env = { DESTDIR: s.destdir };
  const fresh = await install(["--binary", s.binary, "--dry-run"], env, `${s.dir}/bin`);
  assert.equal(fresh.code, 0, fresh.stdout + fresh.stderr);
  assert.deepEqual(await tree(s.destdir), {});
  for (
    const path of ["/usr/local/bin/ntp", "/etc/ntp/ntp.toml", "/etc/systemd/system/ntp.service"]
  ) {
    assert.match(fresh.stdout, new RegExp(`^would: install .* ${s.destdir}${path}$`, "m"));
  }
  assert.match(fresh.stdout, /^would: install -d -m 0755 .*\/var\/lib\/ntp$/m);
  assert.match(fresh.stdout, /^dry run: nothing was changed$/m);

  assert.equal((await install(["--binary", s.binary], env, `${s.dir}/bin`)).code, 0);
  await Deno.writeTextFile(`${s.destdir}/etc/ntp/ntp.toml`, "# mine\n");
  const before = await tree(s.destdir);
  const again = await install(["--binary", s.binary, "--dry-run"], env, `${s.dir}/bin`);
  assert.equal(again.code, 0, again.stdout + again.stderr);
  assert.deepEqual(await tree(s.destdir), before);
  assert.match(again.stdout, /^would: install .*ntp\.toml\.new$/m);
  assert.equal(await Deno.stat(s.systemctlLog).then(() => true, () => false), false);
});

Deno.test("install.sh refuses a missing binary, an unknown option, and ntpsec's ntp.service alias", async () => {
  await using s = await scratch();
  const env = { DESTDIR: s.destdir };
  const missing = await install(["--binary", `${s.dir}/nope`], env, `${s.dir}/bin`);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nope does not exist: build it with `deno task compile`/);

  const unknown = await install(["--frobnicate"], env, `${s.dir}/bin`);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown option '--frobnicate'/);

  await Deno.mkdir(`${s.destdir}/etc/systemd/system`, { recursive: true });
  await Deno.symlink(
    "/lib/systemd/system/ntpsec.service",
    `${s.destdir}/etc/systemd/system/ntp.service`,
  );
  const alias = await install(["--binary", s.binary], env, `${s.dir}/bin`);
  assert.equal(alias.code, 1);
  assert.match(alias.stderr, /is a symlink to .*ntpsec\.service.*systemctl disable ntpsec/);
  assert.equal(
    await Deno.stat(`${s.destdir}/usr/local/bin/ntp`).then(() => true, () => false),
    false,
  );
});
