import { Controller, Get, Inject } from '@nestjs/common';
import { ApiOkResponse, ApiProperty, ApiPropertyOptional, ApiTags } from '@nestjs/swagger';
import { DEMO_USERS } from '../auth/seed.service';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';

class DemoUser {
  @ApiProperty() email!: string;
  @ApiProperty() name!: string;
  @ApiProperty() role!: string;
}
class DemoLogins {
  @ApiProperty() password!: string;
  @ApiProperty({ type: [DemoUser] }) users!: DemoUser[];
}
class WebConfigResponse {
  @ApiPropertyOptional({ type: DemoLogins, nullable: true, description: 'The demo logins, when the demo organisation is seeded (never in production)' })
  demo!: DemoLogins | null;
  @ApiPropertyOptional({ type: String, nullable: true, description: "The local WhatsApp sandbox's customer page, with the demo (never in production)" })
  sandboxUrl!: string | null;
}

const LOCAL_URL = /^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\/*$/;

/** What the web client needs before sign-in. Public. */
@ApiTags('web')
@Controller('api/v1/web')
export class WebController {
  constructor(@Inject(GATEWAY_CONFIG) private readonly cfg: GatewayConfig) {}

  @Get('config')
  @ApiOkResponse({ type: WebConfigResponse })
  config(): WebConfigResponse {
    const demo = this.cfg.SEED_DEMO && this.cfg.NODE_ENV !== 'production';
    return {
      demo: demo ? { password: this.cfg.DEMO_PASSWORD, users: DEMO_USERS.map((u) => ({ email: u.email, name: u.name, role: u.role })) } : null,
      // the Graph API on this machine is the sandbox (npm start): the login page links its customer page
      sandboxUrl: demo && LOCAL_URL.test(this.cfg.GRAPH_API_BASE_URL) ? `${this.cfg.GRAPH_API_BASE_URL.replace(/\/+$/, '')}/sandbox` : null,
    };
  }
}
