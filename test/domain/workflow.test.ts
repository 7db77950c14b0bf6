import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  actorRoles,
  checkTransition,
  CLOSED_STATES,
  STATES,
  TRANSITIONS,
  workflowDoc,
  workflowMermaid,
  type Actor,
  type State,
} from '../../src/domain/workflow.js';
import { exampleConfig } from '../helpers/config.js';

describe('workflow transitions', () => {
  it.each<[State, State, Actor[], boolean]>([
    ['assigned', 'accepted', ['assigned-cse'], true],
    ['assigned', 'accepted', ['pool-cse'], true],
    ['assigned', 'accepted', ['manager'], true],
    ['assigned', 'accepted', ['author'], false],
    ['assigned', 'accepted', [], false],
    ['limit-reached', 'accepted', ['assigned-cse'], true],
    ['accepted', 'scheduled', ['assigned-cse'], true],
    ['scheduled', 'completed', ['assigned-cse'], true],
    ['accepted', 'completed', ['pool-cse'], true],
    ['assigned', 'completed', ['assigned-cse'], false], // completed before accepted
    ['assigned', 'completed', ['manager'], false], // not even a manager skips acceptance
    ['needs-info', 'accepted', ['assigned-cse'], false],
    ['accepted', 'declined', ['assigned-cse'], true],
    ['accepted', 'declined', ['author'], false],
    ['needs-info', 'withdrawn', ['author'], true],
    ['scheduled', 'withdrawn', ['author'], true],
    ['scheduled', 'withdrawn', ['pool-cse'], false],
    ['completed', 'accepted', ['manager'], false], // closed states are final
    ['new', 'assigned', ['bot'], true],
    ['new', 'assigned', ['assigned-cse'], false],
  ])('%s → %s by %j: allowed %s', (from, to, roles, allowed) => {
    const result = checkTransition(from, to, roles);
    expect(result.allowed).toBe(allowed);
    if (!result.allowed) {
      expect(result.reason.length).toBeGreaterThan(10);
      expect(result.instead.length).toBeGreaterThan(5);
    }
  });

  it('explains a refusal in terms a person can act on', () => {
    const early = checkTransition('assigned', 'completed', ['assigned-cse']);
    expect(early).toEqual({
      allowed: false,
      reason: 'a request cannot go from `assigned` to `completed`',
      instead: 'from `assigned` it can go to `accepted`, `declined`, `withdrawn`',
    });
    const who = checkTransition('assigned', 'accepted', ['author']);
    expect(who).toMatchObject({
      allowed: false,
      reason: 'only the assigned CSE or a CSE of the covering pool or a manager can move a request to `accepted`',
    });
  });

  it('every state is reachable and every closed state is final', () => {
    const reachable = new Set<State>(['new']);
    for (let i = 0; i < STATES.length; i++)
      for (const t of TRANSITIONS) if (t.from.some((f) => reachable.has(f))) reachable.add(t.to);
    expect([...reachable].sort()).toEqual([...STATES].sort());
    for (const s of CLOSED_STATES) expect(TRANSITIONS.filter((t) => t.from.includes(s))).toEqual([]);
  });

  it('gives people their roles for a request from the configuration', () => {
    const config = exampleConfig();
    const roles = (username: string, extra: Partial<{ isAuthor: boolean; isAssignee: boolean }> = {}) =>
      actorRoles({ username, isBot: false, isAuthor: false, isAssignee: false, ...extra }, config, 'mm', 'amr');
    expect(roles('drew.cse', { isAssignee: true })).toEqual(['assigned-cse', 'pool-cse']);
    expect(roles('casey.cse')).toEqual(['pool-cse']);
    expect(roles('emery.cse')).toEqual([]);
    expect(roles('harper.mgr')).toEqual(['manager']);
    expect(roles('alex.ae', { isAuthor: true })).toEqual(['author']);
    expect(
      actorRoles({ username: 'scale-bot', isBot: true, isAuthor: false, isAssignee: false }, config, 'mm', 'amr'),
    ).toEqual(['bot']);
  });
});

describe('docs/workflow.md', () => {
  it('is generated from the same table the code enforces (run `scale-bot workflow --write`)', () => {
    const committed = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'workflow.md'), 'utf8');
    expect(committed).toBe(workflowDoc());
  });

  it('draws every transition of the table in the Mermaid diagram', () => {
    const diagram = workflowMermaid();
    for (const t of TRANSITIONS)
      for (const from of t.from)
        expect(diagram).toContain(`${from.replace(/-/g, '_')} --> ${t.to.replace(/-/g, '_')}:`);
  });
});
