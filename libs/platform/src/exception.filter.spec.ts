import { BadRequestException, ConflictException } from '@nestjs/common';
import { Logger } from '@nestjs/common';
import { ConflictError, RemoteError, UpstreamTimeoutError } from '@app/messaging';
import { AllExceptionsFilter } from './exception.filter';

describe('AllExceptionsFilter: one table from error to HTTP', () => {
  const filter = new AllExceptionsFilter();
  beforeAll(() => Logger.overrideLogger(false));

  it('keeps HttpExceptions, joining validation messages', () => {
    expect(filter.toBody(new BadRequestException(['email must be an email', 'password too short']))).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: 'email must be an email; password too short',
      details: ['email must be an email', 'password too short'],
    });
    expect(filter.toBody(new ConflictException('stale')).statusCode).toBe(409);
  });

  it('maps bus codes: conflict 409 with details, timeout 503', () => {
    expect(filter.toBody(new RemoteError('x', { code: 'CONFLICT', message: 'owned by Ana', details: { ownerId: 'u1' } }))).toEqual({
      statusCode: 409,
      error: 'Conflict',
      message: 'owned by Ana',
      details: { ownerId: 'u1' },
    });
    expect(filter.toBody(new ConflictError('x')).statusCode).toBe(409);
    expect(filter.toBody(new UpstreamTimeoutError('t1.routing.claim.v1', 2000))).toMatchObject({ statusCode: 503, message: 'routing did not answer within 2000 ms' });
  });

  it('answers 503, not 500, when the database is down', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    expect(filter.toBody(err)).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
  });

  it('hides anything else behind a 500 with an error id', () => {
    const body = filter.toBody(new TypeError('x is undefined'));
    expect(body).toMatchObject({ statusCode: 500, message: 'internal error' });
    expect(body.errorId).toMatch(/^[0-9a-f-]{36}$/);
  });
});
