import { Router, type Response } from 'express';
import type { Knowledge } from '../knowledge/load-knowledge.js';
import { renderLandingPage } from '../web/landing-page.js';
import type { TryAssets } from '../web/try-assets.js';
import { methodNotAllowed } from './cds-routes.js';

export interface BrowserRouteDeps {
  readonly knowledge: Knowledge;
  /** The /try page and its files; absent when caller JWTs are required (the page cannot sign its calls). */
  readonly tryAssets: TryAssets | undefined;
}

const LANDING_POLICY = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
/** The try page runs only its own script and calls only this service. */
const TRY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

function page(res: Response, route: string, policy: string): Response {
  res.locals['route'] = route;
  return res.set({ 'Content-Security-Policy': policy, 'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-cache' });
}

/** The landing page at `/` and, in development mode, the order-entry page at `/try` with its script, style and data. */
export function createBrowserRouter(deps: BrowserRouteDeps): Router {
  const router = Router();
  const landing = renderLandingPage({ knowledge: deps.knowledge, tryPageServed: deps.tryAssets !== undefined });
  router
    .route('/')
    .get((_req, res) => {
      page(res, 'landing', LANDING_POLICY).type('html').send(landing);
    })
    .all(methodNotAllowed('GET'));

  const assets = deps.tryAssets;
  if (!assets) return router;
  const samples = JSON.stringify(assets.samples);
  const options = JSON.stringify(assets.options);
  router
    .route('/try')
    .get((req, res) => {
      // The page links its files relatively (try/try.js), so it must be served without a trailing slash.
      if (req.originalUrl.split('?')[0]?.endsWith('/')) {
        res.redirect(301, '../try');
        return;
      }
      page(res, 'try', TRY_POLICY).type('html').send(assets.html);
    })
    .all(methodNotAllowed('GET'));
  const files: ReadonlyArray<readonly [string, string, string]> = [
    ['/try/try.js', 'text/javascript', assets.script],
    ['/try/try.css', 'text/css', assets.style],
    ['/try/samples.json', 'application/json', samples],
    ['/try/options.json', 'application/json', options],
  ];
  for (const [path, type, content] of files) {
    router
      .route(path)
      .get((_req, res) => {
        page(res, 'try', TRY_POLICY).type(type).send(content);
      })
      .all(methodNotAllowed('GET'));
  }
  return router;
}
