import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';
import { TEMPLATE_STATUSES, type TemplateStatus } from '@app/contracts';

export class TemplateListQuery {
  @IsOptional()
  @Matches(/^\d{1,32}$/, { message: "phoneNumberId must be Meta's numeric phone number id (not the phone number itself)" })
  @ApiPropertyOptional({ example: '106540352242922', description: 'A registered business number: the templates of its WhatsApp Business Account. Absent: every number the caller may see.' })
  phoneNumberId?: string;

  @IsOptional()
  @IsIn(TEMPLATE_STATUSES, { message: `status must be one of ${TEMPLATE_STATUSES.join(', ')}` })
  @ApiPropertyOptional({ enum: TEMPLATE_STATUSES })
  status?: TemplateStatus;
}

export class TemplateNumberResponse {
  @ApiProperty() phoneNumberId!: string;
  @ApiProperty() wabaId!: string;
  @ApiProperty() displayNumber!: string;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) defaultTeamId!: string | null;
}

export class TemplateResponse {
  @ApiProperty({ description: 'The WhatsApp Business Account the template belongs to' }) wabaId!: string;
  @ApiProperty({ nullable: true, type: String, description: "Meta's template id" }) templateId!: string | null;
  @ApiProperty({ example: 'order_update' }) name!: string;
  @ApiProperty({ example: 'en_US' }) language!: string;
  @ApiProperty({ example: 'APPROVED', description: `As Meta reports it: ${TEMPLATE_STATUSES.join(', ')}. Only APPROVED templates can be sent.` }) status!: string;
  @ApiProperty({ nullable: true, type: String, example: 'UTILITY' }) category!: string | null;
  @ApiProperty({ description: 'HEADER / BODY / FOOTER / BUTTONS components as Meta stores them', type: 'array', items: { type: 'object' }, nullable: true }) components!: unknown;
  @ApiProperty({ nullable: true, type: String, example: 'Hi {{1}}, your order {{2}} is now {{3}}.' }) body!: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'Distinct {{n}} parameters of the body' }) bodyParameterCount!: number | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'When the Graph API last listed it' }) syncedAt!: string | null;
  @ApiProperty({ format: 'date-time', description: 'Last change (a sync or a status webhook)' }) updatedAt!: string;
}

export class TemplateListResponse {
  @ApiProperty({ type: [TemplateResponse] }) items!: TemplateResponse[];
  @ApiProperty({ type: [TemplateNumberResponse], description: 'The registered business numbers the caller may see (with phoneNumberId: that one)' })
  numbers!: TemplateNumberResponse[];
  @ApiProperty({ type: [String], description: 'The WhatsApp Business Accounts notifications syncs (WHATSAPP_WABA_IDS)' }) syncedWabaIds!: string[];
  @ApiProperty({ nullable: true, type: String, format: 'date-time', description: 'The latest sync of the listed accounts' }) lastSyncedAt!: string | null;
}

export class TemplateSyncFailure {
  @ApiProperty() wabaId!: string;
  @ApiProperty({ example: 'Meta answered 400 (code 100): Unsupported get request.', description: "Meta's error, or why the Graph API could not be reached" }) reason!: string;
}

export class TemplateSyncResponse {
  @ApiProperty({ description: 'Templates stored from the Graph API' }) synced!: number;
  @ApiProperty({ type: [String], description: 'The accounts synced (WHATSAPP_WABA_IDS)' }) wabaIds!: string[];
  @ApiProperty({ type: [TemplateSyncFailure], description: 'Accounts that could not be synced (when every one fails: 503)' }) failures!: TemplateSyncFailure[];
  @ApiProperty({ format: 'date-time' }) syncedAt!: string;
}
