import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import { httpStatusOf } from '@app/contracts';
import { BusError, isDependencyUnavailable } from '@app/messaging';

/** Body of every error answer: `{ statusCode, error, message, details? }`. */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
  details?: unknown;
  errorId?: string;
}

const reasons: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Payload Too Large',
  422: 'Unprocessable Entity',
  424: 'Failed Dependency',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** One table maps errors to HTTP: HttpException as is, bus codes by ERROR_CODES, anything else 500 + errorId. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly log = new Logger('Http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const body = this.toBody(exception);
    if (body.statusCode === 503) res.setHeader('Retry-After', '5');
    res.status(body.statusCode).json(body);
  }

  toBody(exception: unknown): ErrorBody {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const r = exception.getResponse();
      if (typeof r === 'string') return { statusCode: status, error: reasons[status] ?? 'Error', message: r };
      const o = r as { message?: unknown; error?: string; details?: unknown };
      const message = Array.isArray(o.message) ? o.message.join('; ') : String(o.message ?? exception.message);
      const details = o.details ?? (Array.isArray(o.message) ? o.message : undefined);
      return {
        statusCode: status,
        error: reasons[status] ?? o.error ?? 'Error',
        message,
        ...(details !== undefined ? { details } : {}),
      };
    }
    if (exception instanceof BusError) {
      const status = httpStatusOf(exception.code);
      return {
        statusCode: status,
        error: reasons[status] ?? 'Error',
        message: exception.message,
        ...(exception.details !== undefined ? { details: exception.details } : {}),
      };
    }
    if ((exception as { type?: string })?.type === 'entity.too.large') {
      return { statusCode: 413, error: reasons[413], message: 'request body is too large' };
    }
    if (isDependencyUnavailable(exception)) {
      this.log.warn(`dependency unavailable: ${(exception as Error).message}`);
      return { statusCode: 503, error: reasons[503], message: 'a dependency (database or message broker) is unavailable; retry later' };
    }
    const errorId = randomUUID();
    this.log.error(`unhandled error ${errorId}: ${(exception as Error)?.stack ?? exception}`);
    return { statusCode: HttpStatus.INTERNAL_SERVER_ERROR, error: reasons[500], message: 'internal error', errorId };
  }
}
