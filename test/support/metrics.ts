// Reading the gateway's Prometheus text, for the tests and the bench alike.

/** A metric's value without labels, e.g. dualgate_bcrypt_busy_seconds_total (NaN when absent). */
export function counterValue(metricsText: string, name: string): number {
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metricsText)?.[1] ?? Number.NaN);
}
