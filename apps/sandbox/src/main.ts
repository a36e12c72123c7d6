import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { loadConfigOrExit } from '@app/config';
import { JsonLogger } from '@app/platform';
import { SandboxConfigSchema } from './config';
import { SandboxModule } from './sandbox.module';

const cfg = loadConfigOrExit('sandbox', SandboxConfigSchema);
if (cfg.NODE_ENV === 'production') {
  process.stderr.write('[sandbox] the WhatsApp sandbox never runs with NODE_ENV=production\n');
  process.exit(78);
}

async function main(): Promise<void> {
  const logger = new JsonLogger('sandbox', cfg.LOG_LEVEL);
  const app = await NestFactory.create(SandboxModule.register(cfg), { logger, bodyParser: true });
  app.enableShutdownHooks();
  await app.listen(cfg.PORT, '0.0.0.0');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('0.0.0.0', '127.0.0.1');
  logger.log(`SANDBOX: simulated WhatsApp Cloud API on ${url} (customer phone: ${url}/sandbox); webhooks → ${cfg.SANDBOX_WEBHOOK_URL}`, 'Bootstrap');
}
void main();
