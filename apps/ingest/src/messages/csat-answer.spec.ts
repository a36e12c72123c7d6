import { csatPickOf } from './csat-answer';

const SURVEY = '0b6f2c0e-4b9a-4d1e-9a53-2f5b8f0c1d2e';

describe('csatPickOf: which inbound interactive replies are CSAT ratings', () => {
  it('reads the survey, rating and comment minutes from a list_reply or button_reply row id', () => {
    expect(csatPickOf('interactive', { type: 'list_reply', list_reply: { id: `csat:${SURVEY}:4:15`, title: '4 – Good' } })).toEqual({ surveyId: SURVEY, rating: 4, commentMinutes: 15 });
    expect(csatPickOf('interactive', { type: 'button_reply', button_reply: { id: `csat:${SURVEY}:1:0`, title: '1' } })).toEqual({ surveyId: SURVEY, rating: 1, commentMinutes: 0 });
  });

  it('anything else is an ordinary message: other ids, ratings out of 1–5, other types, flows', () => {
    const list = (id: unknown) => ({ type: 'list_reply', list_reply: { id, title: 'x' } });
    for (const content of [list('priority_express'), list(`csat:${SURVEY}:6:0`), list(`csat:${SURVEY}:0:0`), list(`csat:not-a-uuid:4:0`), list(`xcsat:${SURVEY}:4:0`), list(`csat:${SURVEY}:4:0:extra`), list(42), { type: 'nfm_reply', nfm_reply: { name: 'flow' } }, null, 'text'])
      expect(csatPickOf('interactive', content)).toBeNull();
    expect(csatPickOf('text', { body: `csat:${SURVEY}:4:0` })).toBeNull();
    expect(csatPickOf('button', { payload: `csat:${SURVEY}:4:0`, text: '4' })).toBeNull();
  });
});
