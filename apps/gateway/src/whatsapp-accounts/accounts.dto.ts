import { ApiProperty, ApiPropertyOptional, OmitType, PartialType } from '@nestjs/swagger';
import { IsIn, IsOptional, IsString, IsUUID, Matches, MaxLength, MinLength, ValidateIf } from 'class-validator';

const DIGITS = /^\d{1,32}$/;
const VERSION = /^v\d{1,3}\.\d$/;
const STATUSES = ['active', 'disabled'] as const;

export class SecretViewResponse {
  @ApiProperty({ description: 'Whether a value is stored' }) set!: boolean;
  @ApiProperty({ nullable: true, type: String, description: 'Last 4 characters; the value itself is never returned' }) last4!: string | null;
}

class AppFields {
  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @Matches(DIGITS, { message: 'metaAppId must be the numeric Meta app id' })
  @ApiPropertyOptional({ nullable: true, type: String, example: '1234567890', description: "Meta's app id (App Dashboard)" })
  metaAppId?: string | null;

  @IsOptional()
  @IsString()
  @MinLength(8)
  @MaxLength(200)
  @ApiPropertyOptional({ writeOnly: true, description: 'App secret (verifies X-Hub-Signature-256). Write-only.' })
  appSecret?: string;

  @IsOptional()
  @IsString()
  @MinLength(8)
  @MaxLength(200)
  @ApiPropertyOptional({ writeOnly: true, description: 'Verify token of the webhook subscription handshake. Write-only.' })
  verifyToken?: string;

  @IsOptional()
  @IsString()
  @MinLength(8)
  @MaxLength(1000)
  @ApiPropertyOptional({ writeOnly: true, description: 'System-user access token for the Graph API. Write-only.' })
  accessToken?: string;
}

export class CreateMetaAppDto extends AppFields {
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @ApiProperty({ maxLength: 100 })
  name!: string;
}

export class UpdateMetaAppDto extends AppFields {
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @ApiPropertyOptional({ maxLength: 100 })
  name?: string;

  @IsOptional()
  @IsIn(STATUSES)
  @ApiPropertyOptional({ enum: STATUSES, description: 'disabled: its secrets no longer verify webhooks; its numbers cannot send' })
  status?: (typeof STATUSES)[number];
}

export class MetaAppResponse {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ nullable: true, type: String }) metaAppId!: string | null;
  @ApiProperty({ enum: STATUSES }) status!: string;
  @ApiProperty({ type: SecretViewResponse }) appSecret!: SecretViewResponse;
  @ApiProperty({ type: SecretViewResponse }) verifyToken!: SecretViewResponse;
  @ApiProperty({ type: SecretViewResponse }) accessToken!: SecretViewResponse;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class MetaAppListResponse {
  @ApiProperty({ type: [MetaAppResponse] }) items!: MetaAppResponse[];
}

export class CreateWabaDto {
  @Matches(DIGITS, { message: 'wabaId must be the numeric WhatsApp Business Account id' })
  @ApiProperty({ example: '100000000000001' })
  wabaId!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(100)
  @ApiProperty({ maxLength: 100 })
  name!: string;

  @IsUUID()
  @ApiProperty({ format: 'uuid', description: 'The Meta app (registry id) whose credentials serve this account' })
  appId!: string;
}

export class UpdateWabaDto extends PartialType(OmitType(CreateWabaDto, ['wabaId'] as const)) {
  @IsOptional()
  @IsIn(STATUSES)
  @ApiPropertyOptional({ enum: STATUSES })
  status?: (typeof STATUSES)[number];
}

export class WabaResponse {
  @ApiProperty() wabaId!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ format: 'uuid' }) appId!: string;
  @ApiProperty({ enum: STATUSES }) status!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class WabaListResponse {
  @ApiProperty({ type: [WabaResponse] }) items!: WabaResponse[];
}

export class CreateNumberDto {
  @Matches(DIGITS, { message: 'phoneNumberId must be the numeric phone number id from Meta (not the phone number itself)' })
  @ApiProperty({ example: '106540352242922' })
  phoneNumberId!: string;

  @Matches(DIGITS, { message: 'wabaId must be the numeric WhatsApp Business Account id' })
  @ApiProperty({ example: '100000000000001' })
  wabaId!: string;

  @Matches(/^\+?[0-9 ()-]{4,30}$/, { message: 'displayNumber must be a phone number such as +1 555 078 3881' })
  @ApiProperty({ example: '+1 555 078 3881' })
  displayNumber!: string;

  @IsOptional()
  @ValidateIf((_, v) => v !== null)
  @IsUUID()
  @ApiPropertyOptional({ format: 'uuid', nullable: true, type: String, description: 'Team whose queue new conversations land in' })
  defaultTeamId?: string | null;

  @IsOptional()
  @Matches(VERSION, { message: 'graphApiVersion must look like v23.0' })
  @ApiPropertyOptional({ example: 'v23.0', description: 'Defaults to GRAPH_API_VERSION' })
  graphApiVersion?: string;
}

export class UpdateNumberDto extends PartialType(OmitType(CreateNumberDto, ['phoneNumberId', 'wabaId'] as const)) {
  @IsOptional()
  @IsIn(STATUSES)
  @ApiPropertyOptional({ enum: STATUSES })
  status?: (typeof STATUSES)[number];
}

export class NumberListQuery {
  @IsOptional()
  @Matches(DIGITS, { message: 'wabaId must be numeric' })
  @ApiPropertyOptional()
  wabaId?: string;

  @IsOptional()
  @IsIn(STATUSES)
  @ApiPropertyOptional({ enum: STATUSES })
  status?: (typeof STATUSES)[number];
}

export class ConnectionReportResponse {
  @ApiProperty() ok!: boolean;
  @ApiProperty() phoneNumberId!: string;
  @ApiProperty({ nullable: true, type: String, description: "Meta's verified business name" }) verifiedName!: string | null;
  @ApiProperty({ nullable: true, type: String }) displayPhoneNumber!: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'GREEN' }) qualityRating!: string | null;
  @ApiProperty({ nullable: true, type: String, example: 'TIER_250', description: 'Messaging limit (tier)' }) messagingLimit!: string | null;
  @ApiProperty({ format: 'date-time' }) testedAt!: string;
}

export class NumberResponse {
  @ApiProperty() phoneNumberId!: string;
  @ApiProperty() wabaId!: string;
  @ApiProperty() displayNumber!: string;
  @ApiProperty({ nullable: true, type: String, format: 'uuid' }) defaultTeamId!: string | null;
  @ApiProperty({ example: 'v23.0' }) graphApiVersion!: string;
  @ApiProperty({ enum: STATUSES }) status!: string;
  @ApiProperty({ nullable: true, type: Object, description: 'The last "test connection" result' }) lastTest!: Record<string, unknown> | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class NumberListResponse {
  @ApiProperty({ type: [NumberResponse] }) items!: NumberResponse[];
}

export class ReencryptResponse {
  @ApiProperty() reencrypted!: number;
  @ApiProperty() keyId!: string;
}
