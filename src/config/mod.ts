// The config module's public face: load, check, convert and hand the config to the core.
export type { Diagnostic, SourcePosition } from "./diagnostics.ts";
export { ConfigError, formatDiagnostic, hasErrors, sortDiagnostics } from "./diagnostics.ts";
export type {
  DiscardConfig,
  LeapSmearConfig,
  ListenAddress,
  MetricsConfig,
  NtpConfig,
  RestrictConfig,
  ServeConfig,
  TinkerConfig,
  TosConfig,
  UpstreamConfig,
} from "./ntp_config.ts";
export { workerCount } from "./ntp_config.ts";
export type { CheckResult, CheckTextOptions, ConfigFormat } from "./parse_config.ts";
export { checkConfigText, detectFormat, parseConfigText } from "./parse_config.ts";
export type { FileProbe, InspectOptions, InspectResult } from "./load_config_file.ts";
export { inspectConfigFile, loadConfigFile, realFileProbe } from "./load_config_file.ts";
export { toRestrictRules } from "./restrict_rules.ts";
export { toRateLimitPolicy } from "./rate_limit_policy.ts";
export { configToToml } from "./toml_writer.ts";
export { writeImportedToml } from "./import_writer.ts";
export { configSchema } from "./schema.ts";
export { renderConfigReference } from "./reference_markdown.ts";
