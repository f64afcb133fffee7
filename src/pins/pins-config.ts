import { z } from 'zod';

export const PinsConfigSchema = z.strictObject({
  enabled: z.boolean().default(true),
  /** Pin file (JSON). A relative path resolves against the config file's folder (config-paths.ts). */
  file: z.string().min(1).default('.warden/pins.json'),
  /** A pinned tool whose definition changed ("rug pull"): hold calls for approval or block them. */
  onChange: z.enum(['approve', 'block']).default('approve'),
  /** A tool that appears after the upstream's first listing. `allow` pins it automatically. */
  onNew: z.enum(['approve', 'block', 'allow']).default('approve'),
  /** Pick up `warden pins accept` from the file while running. */
  watch: z.boolean().default(true),
});
export type PinsConfig = z.infer<typeof PinsConfigSchema>;
