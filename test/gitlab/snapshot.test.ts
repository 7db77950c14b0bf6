import { describe, expect, it } from 'vitest';
import { apiIssueSchema } from '../../src/gitlab/api-schemas.js';
import { issueRecord } from '../../src/gitlab/snapshot.js';

/** `GET /projects/:id/issues/:iid` as GitLab's API documentation shows it, trimmed to a few extra fields. */
const documentedIssue = {
  id: 84,
  iid: 14,
  project_id: 4,
  title: 'Add a new feature',
  description: 'Description of the feature',
  state: 'opened',
  created_at: '2016-01-07T12:44:33.959Z',
  updated_at: '2016-01-07T12:44:33.959Z',
  closed_at: null,
  closed_by: null,
  labels: ['segment::mm'],
  milestone: null,
  assignees: [{ id: 1, username: 'casey.cse', name: 'Casey' }],
  author: { id: 18, username: 'alex.ae', name: 'Alex' },
  type: 'ISSUE',
  issue_type: 'issue',
  confidential: false,
  web_url: 'http://gitlab.example.com/my-group/my-project/issues/14',
};

describe('issueRecord', () => {
  it('reads the documented single-issue answer', () => {
    expect(issueRecord(apiIssueSchema.parse(documentedIssue))).toEqual({
      iid: 14,
      title: 'Add a new feature',
      description: 'Description of the feature',
      state: 'opened',
      author: 'alex.ae',
      labels: ['segment::mm'],
      assignees: ['casey.cse'],
      webUrl: 'http://gitlab.example.com/my-group/my-project/issues/14',
      createdAt: '2016-01-07T12:44:33.959Z',
      updatedAt: '2016-01-07T12:44:33.959Z',
      closedAt: null,
      issueType: 'issue',
    });
  });

  it('reads a null author (a deleted user, not yet moved to the Ghost user) as ghost', () => {
    expect(issueRecord(apiIssueSchema.parse({ ...documentedIssue, author: null })).author).toBe('ghost');
  });

  it.each([
    ['a task', { issue_type: 'task', type: 'TASK' }, 'task'],
    ['an older GitLab without issue_type', { issue_type: undefined }, undefined],
    ['issue_type null', { issue_type: null }, undefined],
  ])('keeps the type of %s', (_what, fields, issueType) => {
    expect(issueRecord(apiIssueSchema.parse({ ...documentedIssue, ...fields })).issueType).toBe(issueType);
  });
});
