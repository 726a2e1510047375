import { Router } from 'express';
import { renderRationaleIndex, renderRationalePage } from '../cards/rationale-page.js';
import { CdsError } from '../errors.js';
import type { Knowledge } from '../knowledge/load-knowledge.js';
import { methodNotAllowed } from './cds-routes.js';
import { factsOf } from './request-facts.js';

/** Human-readable rationale pages, linked from every card; public and stable: `/rationale/{card id}`. Mount at `/rationale`. */
export function createRationaleRouter(knowledge: Knowledge): Router {
  const router = Router();
  const index = renderRationaleIndex(knowledge);
  const pages = new Map([...knowledge.cards.keys()].map((id) => [id, renderRationalePage(id, knowledge) ?? '']));
  router
    .route('/')
    .get((req, res) => {
      // The index links relatively, so it must be served at /rationale/ with its slash.
      if (!req.originalUrl.split('?')[0]?.endsWith('/')) {
        res.redirect(301, `${req.baseUrl}/`);
        return;
      }
      factsOf(res).route = 'rationale';
      res.type('html').send(index);
    })
    .all(methodNotAllowed('GET'));
  router
    .route('/:cardId')
    .get((req, res, next) => {
      factsOf(res).route = 'rationale';
      const page = pages.get(req.params['cardId'] ?? '');
      if (!page) {
        next(new CdsError('NOT_FOUND', [{ message: 'No rationale page with this card id' }]));
        return;
      }
      res.type('html').send(page);
    })
    .all(methodNotAllowed('GET'));
  return router;
}
