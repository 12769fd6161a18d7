// Where the config lives when no --config is given: the TOML file first, then ntpd's ntp.conf.

/**
 * Config files tried, in order, when `--config` is not given.
 *
 * @example
 * ```ts
 * DEFAULT_CONFIG_PATHS[0]; // "/etc/ntp/ntp.toml"
 * ```
 */
export const DEFAULT_CONFIG_PATHS: readonly string[] = ["/etc/ntp/ntp.toml", "/etc/ntp.conf"];

/**
 * The leap-seconds file used when `leapfile` is not configured: tzdata's copy of the IANA list
 * (Debian, Ubuntu, RHEL), when present.
 *
 * @example
 * ```ts
 * DEFAULT_LEAP_FILE; // "/usr/share/zoneinfo/leap-seconds.list"
 * ```
 */
export const DEFAULT_LEAP_FILE = "/usr/share/zoneinfo/leap-seconds.list";
