import type { FastifyInstance } from 'fastify';
import type { RunState } from '../../store/database.js';
import type { RunControlService } from '../../services/run-control.service.js';
import type { RunQueryService } from '../../services/runs.service.js';
import { authErrors, bearer, errorBody, idParams, runControlView, runStatus, runStateSchema, runView } from '../schemas.js';
import { principalOf } from '../auth.js';
import { actor } from './actor.js';

export function runRoutes(runs: RunQueryService, control: RunControlService) {
  return async function register(app: FastifyInstance): Promise<void> {
    const viewer = app.requireRole('viewer');
    const tags = ['runs'];

    app.get<{ Querystring: { state?: RunState[]; campaign?: string; limit: number } }>(
      '/runs',
      {
        onRequest: viewer,
        schema: {
          summary: 'Runs, newest first',
          tags,
          security: bearer,
          querystring: {
            type: 'object',
            additionalProperties: false,
            properties: {
              state: { type: 'array', items: runStateSchema, maxItems: 7, description: 'only runs in these states (repeat the parameter)' },
              campaign: { type: 'string', maxLength: 64 },
              limit: { type: 'integer', minimum: 1, maximum: 500, default: 50 },
            },
          },
          response: { 200: { type: 'array', items: runView }, 400: errorBody, ...authErrors },
        },
      },
      async (request) => {
        const versionIds = await app.scopes.visibleVersionIds(principalOf(request));
        return runs.list({
          limit: request.query.limit,
          ...(versionIds ? { campaignVersionIds: versionIds } : {}),
          ...(request.query.state ? { states: request.query.state } : {}),
          ...(request.query.campaign !== undefined ? { campaignId: request.query.campaign } : {}),
        });
      },
    );

    app.get<{ Params: { id: number } }>(
      '/runs/:id',
      { onRequest: viewer, schema: { summary: 'A run’s progress: counts by carrier × state, rate and ETA', tags, security: bearer, params: idParams, response: { 200: runStatus, 400: errorBody, ...authErrors, 404: errorBody } } },
      async (request) => {
        await app.scopes.assertRunVisible(principalOf(request), request.params.id);
        return runs.get(request.params.id);
      },
    );

    // Run control (issue 9, item 3): 409 when the run's state does not allow the change.
    const operator = app.requireRole('operator');
    const actions = {
      pause: { summary: 'Pause a run: it stops claiming; what is in the carrier window finishes', act: control.pause.bind(control) },
      resume: { summary: 'Resume a paused run: its batches are enqueued again', act: control.resume.bind(control) },
      cancel: { summary: 'Cancel a run (final): its queued messages become cancelled', act: control.cancel.bind(control) },
    } as const;
    for (const [name, { summary, act }] of Object.entries(actions)) {
      app.post<{ Params: { id: number } }>(
        `/runs/:id/${name}`,
        { onRequest: operator, schema: { summary, tags, security: bearer, params: idParams, response: { 200: runControlView, 400: errorBody, ...authErrors, 404: errorBody, 409: errorBody } } },
        async (request) => {
          await app.scopes.assertRunVisible(principalOf(request), request.params.id);
          const run = await act(request.params.id, actor(request));
          return { id: run.id, state: run.state, pausedReason: run.paused_reason, error: run.error };
        },
      );
    }
  };
}
