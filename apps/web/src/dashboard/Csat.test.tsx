import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { CsatSettings } from '../admin/CsatSettings';
import { CsatDetails } from '../inbox/CsatDetails';
import { describeEvent } from '../inbox/Timeline';
import { saveSession } from '../lib/api';
import type { AuditEntry, User } from '../lib/types';
import { MANAGER, renderWithApp, stubFetch } from '../test-utils';
import { CsatPanel, type CsatReport } from './Csat';

const ANN: User = { id: 'a1111111-1111-4111-8111-111111111111', email: 'ann@x.test', name: 'Ann Agent', role: 'agent', teamIds: ['t-sales'], disabled: false, createdAt: '' };
// what GET /api/v1/reports/csat answers for 3 surveys sent, 2 rated (4 and 2)
const REPORT: CsatReport = {
  kind: 'csat',
  sent: 3,
  rated: 2,
  responseRatePercent: 66.67,
  scorePercent: 50,
  averageRating: 3,
  distribution: [1, 2, 3, 4, 5].map((rating) => ({ rating, count: rating === 2 || rating === 4 ? 1 : 0 })),
  byTeam: [{ teamId: 't-sales', sent: 3, rated: 2, responseRatePercent: 66.67, scorePercent: 50, averageRating: 3 }],
  byAgent: [{ agentId: ANN.id, sent: 3, rated: 2, responseRatePercent: 66.67, scorePercent: 50, averageRating: 3 }],
};

describe('CSAT in the web client', () => {
  beforeEach(() => saveSession({ accessToken: 'sba_test', refreshToken: 'sbr_test', expiresAt: Date.now() + 60_000 }));

  it('dashboard: shows the score, the response rate, the ratings and each agent from the csat report of the last 7 days', async () => {
    const calls = stubFetch(() => ({ status: 200, body: REPORT }));
    renderWithApp(<CsatPanel />, { me: MANAGER, users: [ANN] });
    const panel = await screen.findByRole('region', { name: 'Customer satisfaction' });
    expect(within(panel).getByLabelText('CSAT score').textContent).toContain('50 %');
    expect(within(panel).getByLabelText('Response rate').textContent).toContain('66.7 %');
    const agentRow = within(panel).getByText('Ann Agent').closest('tr')!;
    expect(agentRow.textContent).toBe('Ann Agent50 %66.7 %2 / 33');
    const ratings = within(within(panel).getByRole('list', { name: 'Ratings' })).getAllByRole('listitem').map((li) => li.textContent);
    expect(ratings).toEqual(['5 ★0', '4 ★1', '3 ★0', '2 ★1', '1 ★0']);
    const url = new URL(calls[0].url, 'http://x');
    expect(url.pathname).toBe('/api/v1/reports/csat');
    expect(Date.parse(url.searchParams.get('to')!) - Date.parse(url.searchParams.get('from')!)).toBe(7 * 86400_000);
  });

  it('dashboard: says so when no survey was sent', async () => {
    stubFetch(() => ({ status: 200, body: { ...REPORT, sent: 0, rated: 0, responseRatePercent: null, scorePercent: null, averageRating: null, byTeam: [], byAgent: [] } }));
    renderWithApp(<CsatPanel />, { me: MANAGER });
    expect(await screen.findByText('No satisfaction surveys sent in the last 7 days.')).toBeTruthy();
  });

  it('timeline: the survey and the rating in words, with the agent rated', () => {
    const e = (action: string, after: Record<string, unknown>): AuditEntry => ({
      id: action, seq: '1', conversationId: 'c', teamId: null, actor: { type: 'system', id: null, name: 'CSAT survey' }, action, before: null, after, note: null, createdAt: new Date().toISOString(),
    });
    const dir = { users: new Map([[ANN.id, ANN]]), teams: new Map(), labels: [] };
    expect(describeEvent(e('csat.sent', { surveyId: 's', agentId: ANN.id }), dir)).toBe('Satisfaction survey sent to the customer');
    expect(describeEvent(e('csat.rated', { surveyId: 's', rating: 4, agentId: ANN.id }), dir)).toBe('The customer rated the conversation 4/5 (Ann Agent)');
    expect(describeEvent(e('csat.commented', { surveyId: 's', rating: 4 }), dir)).toBe('The customer added a comment to their 4/5 rating');
  });

  it('conversation details: the rating with the agent rated and the comment; a survey not sent says why', async () => {
    const calls = stubFetch(() => ({
      status: 200,
      body: {
        items: [
          { surveyId: 's1', episode: 1, agentId: null, status: 'not_sent', reason: 'outside the customer-service window only an approved template can be sent', sentAt: null, rating: null, ratedAt: null, comment: null },
          { surveyId: 's2', episode: 2, agentId: ANN.id, status: 'sent', reason: null, sentAt: new Date().toISOString(), rating: 4, ratedAt: new Date().toISOString(), comment: 'Quick and friendly' },
        ],
      },
    }));
    renderWithApp(<CsatDetails conversationId="c-1" />, { me: MANAGER, users: [ANN] });
    const box = await screen.findByRole('region', { name: 'Satisfaction' });
    expect(box.textContent).toContain('Survey not sent: outside the customer-service window only an approved template can be sent');
    expect(box.textContent).toContain('4/5 for Ann Agent — “Quick and friendly”');
    expect(new URL(calls[0].url, 'http://x').pathname).toBe('/api/v1/conversations/c-1/csat');
  });

  it('admin: saves a team survey with a comment prompt and shows the API’s refusal in words', async () => {
    const calls = stubFetch((url, init) => {
      if ((init.method ?? 'GET') === 'GET') return { status: 200, body: { items: [] } };
      return { status: 403, body: { message: 'only admins and the team’s managers set its CSAT survey' } };
    });
    renderWithApp(<CsatSettings />, { me: MANAGER });
    const form = screen.getByRole('button', { name: 'Save survey' }).closest('form')!;
    fireEvent.change(within(form).getByLabelText('Survey for'), { target: { value: 'number' } });
    fireEvent.change(within(form).getByLabelText('Survey phone number id'), { target: { value: '106540352242922' } });
    fireEvent.change(within(form).getByLabelText('Comment prompt (optional)'), { target: { value: 'Tell us more?' } });
    fireEvent.change(within(form).getByLabelText('Comment within (min)'), { target: { value: '15' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Save survey' }));
    expect((await within(form).findByRole('alert')).textContent).toBe('only admins and the team’s managers set its CSAT survey');
    await waitFor(() => expect(calls.some((c) => c.init.method === 'PUT')).toBe(true));
    const put = calls.find((c) => c.init.method === 'PUT')!;
    expect(new URL(put.url, 'http://x').pathname).toBe('/api/v1/csat/settings');
    expect(JSON.parse(String(put.init.body))).toEqual({
      phoneNumberId: '106540352242922',
      enabled: true,
      question: 'How satisfied are you with our help?',
      buttonText: 'Rate us',
      commentPrompt: 'Tell us more?',
      commentMinutes: 15,
    });
  });
});
