// The RFC 5905 constants the client side uses (section 7.2 and Appendix A), with units in the names.

/** Frequency tolerance assumed for every clock (PHI, 15 ppm), seconds per second. */
export const PHI_SECONDS_PER_SECOND = 15e-6;

/**
 * Frequency instability assumed for the local clock beyond what the discipline measures
 * (wander, temperature), ppm: the error bound and the root dispersion grow at least this fast
 * after an update (chrony's `maxclockerror` default). PHI stays the RFC's tolerance for how long
 * holdover may last.
 */
export const MAX_CLOCK_ERROR_PPM = 1;

/** Dispersion of an empty or missing filter stage, and the largest any value may reach (MAXDISP), seconds. */
export const MAX_DISPERSION_SECONDS = 16;

/** Root distance above which a source is unfit for synchronisation (MAXDIST), seconds. */
export const MAX_DISTANCE_SECONDS = 1.5;

/** Floor of a source's root distance (ntpd's `tos mindist`, 1 ms), seconds. */
export const MIN_DISTANCE_SECONDS = 0.001;

/** Stages of the clock filter (NSTAGE). */
export const FILTER_STAGES = 8;

/** Stratum meaning "unsynchronised" (MAXSTRAT). */
export const MAX_STRATUM = 16;

/**
 * Age after which a filter sample is sorted by delay plus dispersion rather than by delay
 * alone (ntpd's Allan intercept, 2^11 s), seconds.
 */
export const ALLAN_INTERCEPT_SECONDS = 2048;

/** Survivors beyond this many (sorted by metric) are not combined: ntpq's '#' "backup". */
export const MAX_COMBINED_SURVIVORS = 6;

/** Largest frequency correction any driver accepts, ppm. */
export const MAX_FREQUENCY_PPM = 500;
