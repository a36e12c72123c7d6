import { applyDecorators, Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch, Post, Query, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiSecurity,
  ApiTags,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { ErrorResponse } from '../auth/auth.responses';
import { AuthGuard } from '../auth/auth.guard';
import { CurrentPrincipal, RequireScopes, type Principal } from '../auth/principal';
import {
  CreatedSubscriptionResponse,
  CreateSubscriptionDto,
  DeliveryPageResponse,
  DeliveryQuery,
  DeliveryResponse,
  SubscriptionPageResponse,
  SubscriptionResponse,
  UpdateSubscriptionDto,
} from './event-webhooks.dto';
import { EventSubscriptionsService } from './event-subscriptions.service';
import { PageQuery } from '../http/page-query';

const WebhooksApi = () =>
  applyDecorators(
    ApiTags('event-webhooks'),
    ApiBearerAuth('bearer'),
    ApiSecurity('apiKey'),
    ApiUnauthorizedResponse({ type: ErrorResponse }),
    ApiForbiddenResponse({ type: ErrorResponse }),
    ApiBadRequestResponse({ type: ErrorResponse, description: 'Invalid input; a refused URL names the rule in details.rule' }),
    UseGuards(AuthGuard),
    RequireScopes('webhooks:manage'),
  );
const Id = new ParseUUIDPipe();

/**
 * Event webhooks for integrators (admins, or API keys with scope `webhooks:manage`). Deliveries are signed
 * (`Switchboard-Signature: t=…,v1=…`, see docs/WEBHOOKS.md), retried with backoff for up to 24 h, in order per
 * conversation; a subscription that keeps failing is paused and the admins are notified.
 */
@WebhooksApi()
@Controller('api/v1/webhook-subscriptions')
export class EventWebhooksController {
  constructor(private readonly subs: EventSubscriptionsService) {}

  @Post()
  @ApiCreatedResponse({ type: CreatedSubscriptionResponse, description: 'signingSecret appears only in this answer' })
  create(@Body() dto: CreateSubscriptionDto, @CurrentPrincipal() me: Principal) {
    return this.subs.create(dto, me);
  }

  @Get()
  @ApiOkResponse({ type: SubscriptionPageResponse })
  list(@Query() q: PageQuery) {
    return this.subs.list(q.cursor, q.limit);
  }

  @Get(':id')
  @ApiOkResponse({ type: SubscriptionResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  get(@Param('id', Id) id: string) {
    return this.subs.get(id);
  }

  /** Change URL or event types, replace the secret (write-only), pause, or resume (`status: active`). */
  @Patch(':id')
  @ApiOkResponse({ type: SubscriptionResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  update(@Param('id', Id) id: string, @Body() dto: UpdateSubscriptionDto, @CurrentPrincipal() me: Principal) {
    return this.subs.update(id, dto, me);
  }

  @Delete(':id')
  @ApiOkResponse({ type: SubscriptionResponse, description: 'The deleted subscription (its queued deliveries are dropped)' })
  @ApiNotFoundResponse({ type: ErrorResponse })
  remove(@Param('id', Id) id: string, @CurrentPrincipal() me: Principal) {
    return this.subs.remove(id, me);
  }

  /** The delivery log, newest first: status, attempts with the receiver's status codes. */
  @Get(':id/deliveries')
  @ApiOkResponse({ type: DeliveryPageResponse })
  @ApiNotFoundResponse({ type: ErrorResponse })
  deliveries(@Param('id', Id) id: string, @Query() q: DeliveryQuery) {
    return this.subs.deliveries(id, q);
  }

  @Post(':id/deliveries/:deliveryId/redeliver')
  @HttpCode(200)
  @ApiOkResponse({ type: DeliveryResponse, description: 'Queued again, to be sent now' })
  @ApiNotFoundResponse({ type: ErrorResponse })
  redeliver(@Param('id', Id) id: string, @Param('deliveryId', Id) deliveryId: string, @CurrentPrincipal() me: Principal) {
    return this.subs.redeliver(id, deliveryId, me);
  }
}
