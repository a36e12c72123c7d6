import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';

/** The OpenAPI document at /api/docs-json and its UI at /api/docs. */
export function useOpenApi(app: INestApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Switchboard API')
    .setDescription(
      'Shared team inbox for the WhatsApp Business Platform. Authenticate with `POST /api/v1/auth/login` and send ' +
        '`Authorization: Bearer <accessToken>`, or use an API key (`X-Api-Key`). Errors are `{statusCode, error, message, details?}`; ' +
        'every change takes the `version` the client saw and answers 409 with `details.current` when it is stale.',
    )
    .setVersion(process.env.npm_package_version ?? '0.1.0')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'Access token (sba_…) or API key (sbk_…)' }, 'bearer')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-Api-Key' }, 'apiKey')
    .build();
  const document = SwaggerModule.createDocument(app, config, {
    operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}`,
  });
  SwaggerModule.setup('api/docs', app, document, { jsonDocumentUrl: 'api/docs-json' });
}
