/**
 * TLS configuration for STARTTLS/STLS and implicit TLS: certificate and key
 * from the configured paths (the key falls back to the certificate file, as
 * UW does), loaded on first use and cached for the process.
 */
import type tls from 'node:tls';
import { tls as loadTls } from './lazy.js';
import { readFileSync, existsSync } from 'node:fs';
import type { Config } from '../config/index.js';

export function secureContextLoader(cfg: Config): () => tls.SecureContext | undefined {
  let cached: tls.SecureContext | null | undefined;
  return () => {
    if (cached !== undefined) return cached ?? undefined;
    const certPath = cfg.str('tls-cert');
    const keyPath = cfg.str('tls-key') || certPath;
    if (!certPath || !existsSync(certPath) || !existsSync(keyPath)) {
      cached = null;
      return undefined;
    }
    try {
      cached = loadTls().createSecureContext({
        cert: readFileSync(certPath),
        key: readFileSync(keyPath),
        minVersion: cfg.str('tls-min-version') as tls.SecureVersion,
        ...(cfg.str('tls-ciphers') ? { ciphers: cfg.str('tls-ciphers') } : {}),
      });
    } catch {
      cached = null;
    }
    return cached ?? undefined;
  };
}
