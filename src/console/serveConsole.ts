// The Access page at /console/: static files only (the page calls the REST API from the
// browser with the credentials the person types in). The HTML and CSS are served from
// console/public/, the front end compiled from console/src/ (by `npm run build`) from
// dist/browser/. Every asset comes from here: no CDN, nothing inline, so the page runs under a
// strict Content-Security-Policy.
import express, { type RequestHandler, Router } from 'express';
import { fileURLToPath } from 'node:url';

const PAGE_DIR = fileURLToPath(new URL('../../console/public/', import.meta.url));
const CONSOLE_SCRIPTS_DIR = fileURLToPath(new URL('../../dist/browser/', import.meta.url));

const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

const securityHeaders: RequestHandler = (_req, res, next) => {
  res.set(SECURITY_HEADERS);
  next();
};

export function consoleRouter(): Router {
  // Strict: /console and /console/ are different paths (the first redirects to the second).
  const router = Router({ strict: true });
  router.get('/console', (_req, res) => res.redirect(301, '/console/'));
  router.use('/console', securityHeaders);
  // Only the compiled scripts: no source maps, nothing else that may sit in dist/browser/.
  const scripts = express.static(CONSOLE_SCRIPTS_DIR, { index: false, dotfiles: 'deny', fallthrough: true });
  router.use('/console/js', (req, res, next) => (req.path.endsWith('.js') ? scripts(req, res, next) : next()));
  router.use('/console', express.static(PAGE_DIR, { index: 'index.html', dotfiles: 'deny', redirect: false }));
  return router;
}
