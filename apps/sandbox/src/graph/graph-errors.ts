import { randomBytes } from 'node:crypto';

/**
 * Graph API error bodies as documented (REFERENCE §4.4, fixtures/graph/responses/error-*.json):
 * `{ error: { message, type, code, error_subcode?, error_data: { messaging_product, details }, fbtrace_id } }`.
 * Rate limits come back with HTTP 400 too (§4.4).
 */
export interface GraphErrorBody {
  error: {
    message: string;
    type: string;
    code: number;
    error_subcode?: number;
    error_data?: { messaging_product: 'whatsapp'; details: string };
    fbtrace_id: string;
  };
}

export class GraphError {
  constructor(
    readonly httpStatus: number,
    readonly body: GraphErrorBody,
  ) {}
  get code(): number {
    return this.body.error.code;
  }
}

const traceId = () => `A${randomBytes(15).toString('base64url').slice(0, 22)}`;

function graphError(
  httpStatus: number,
  code: number,
  message: string,
  details: string | undefined,
  opts: { type?: string; subcode?: number } = {},
): GraphError {
  return new GraphError(httpStatus, {
    error: {
      message,
      type: opts.type ?? 'OAuthException',
      code,
      ...(opts.subcode !== undefined ? { error_subcode: opts.subcode } : {}),
      ...(details !== undefined ? { error_data: { messaging_product: 'whatsapp', details } } : {}),
      fbtrace_id: traceId(),
    },
  });
}

export const GraphErrors = {
  /** fixtures: error-100-invalid-parameter-template-text-mandatory.json */
  invalidParameter: (details: string) => graphError(400, 100, '(#100) Invalid parameter', details),
  requiredParameter: (name: string) =>
    graphError(400, 100, `(#100) The parameter ${name} is required.`, `The parameter ${name} is required.`),
  /** fixtures: error-100-subcode-33-unknown-phone-number-id.json */
  unknownObject: (id: string) =>
    graphError(
      400,
      100,
      `Unsupported post request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api`,
      undefined,
      { type: 'GraphMethodException', subcode: 33 },
    ),
  /** REFERENCE §4.5 code 190. */
  invalidToken: () => graphError(401, 190, 'Invalid OAuth access token - Cannot parse access token', undefined),
  /** fixtures: error-130429-rate-limit-hit-meta-doc-example.json (HTTP 400, §4.4). */
  rateLimit: () =>
    graphError(
      400,
      130429,
      '(#130429) Rate limit hit',
      'Message failed to send because there were too many messages sent from this phone number in a short period of time',
      { subcode: 2494055 },
    ),
  /** REFERENCE §4.2 / §4.5 code 131056. */
  pairRateLimit: () =>
    graphError(
      400,
      131056,
      '(#131056) (Business Account, Consumer Account) pair rate limit hit',
      'Message failed to send because there were too many messages sent from this phone number to the same phone number in a short period of time',
    ),
  requiredParameterMissing: (details: string) => graphError(400, 131008, '(#131008) Required parameter is missing', details),
  parameterValueInvalid: (details: string) => graphError(400, 131009, '(#131009) Parameter value is not valid', details),
  templateParamCount: (details: string) =>
    graphError(400, 132000, '(#132000) Number of parameters does not match the expected number of params', details),
  templateMissing: (details: string) => graphError(404, 132001, '(#132001) Template name does not exist in the translation', details),
  templateNotApproved: (code: 132015 | 132016, details: string) =>
    graphError(400, code, code === 132015 ? '(#132015) Template is Paused' : '(#132016) Template is disabled', details),
  /** Fault injection "5xx": REFERENCE §4.5 131000 with a server status. */
  serverError: () => graphError(500, 131000, '(#131000) Something went wrong', 'Something went wrong'),
  mediaNotFound: (id: string) =>
    graphError(400, 100, `Unsupported get request. Object with ID '${id}' does not exist`, undefined, {
      type: 'GraphMethodException',
      subcode: 33,
    }),
};
