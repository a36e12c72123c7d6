import { Logger } from '@nestjs/common';

// Quiet Nest's static loggers in tests unless asked (TEST_LOG_LEVEL=debug npm test).
if (!process.env.TEST_LOG_LEVEL) Logger.overrideLogger(false);
