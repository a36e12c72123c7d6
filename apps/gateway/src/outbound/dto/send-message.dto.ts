import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  MaxLength,
  ValidateNested,
} from 'class-validator';

export const SEND_TYPES = ['text', 'image', 'video', 'audio', 'document', 'sticker', 'template', 'interactive', 'reaction'] as const;

export class TextDto {
  @ApiProperty({ maxLength: 4096 }) @IsString() @IsNotEmpty() @MaxLength(4096) body!: string;
  @ApiPropertyOptional() @IsOptional() @IsBoolean() previewUrl?: boolean;
}

export class MediaDto {
  /** A media id from the Graph media upload, or … */
  @ApiPropertyOptional({ description: 'A media id from the Graph media upload (or give link)' }) @IsOptional() @IsString() @IsNotEmpty() @MaxLength(256) id?: string;
  /** … an http(s) link WhatsApp fetches. */
  @ApiPropertyOptional({ description: 'An http(s) link WhatsApp fetches' }) @IsOptional() @IsString() @MaxLength(2048) @Matches(/^https?:\/\//i, { message: 'link must be an http(s) URL' }) link?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(1024) caption?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(240) filename?: string;
}

export class TemplateDto {
  @ApiProperty() @IsString() @IsNotEmpty() @MaxLength(512) name!: string;
  /** e.g. en_US */
  @ApiProperty({ example: 'en_US' }) @IsString() @IsNotEmpty() @MaxLength(16) language!: string;
  /** Graph API components: `[{ type: 'body', parameters: [{ type: 'text', text: '…' }] }]`. */
  @ApiPropertyOptional({ type: [Object], description: "Graph API components: [{ type: 'body', parameters: [{ type: 'text', text: '…' }] }]" }) @IsOptional() @IsArray() @IsObject({ each: true }) components?: Record<string, unknown>[];
}

export class ReactionDto {
  @ApiProperty({ description: 'wamid of the message reacted to' }) @IsString() @IsNotEmpty() @MaxLength(512) messageId!: string;
  /** Empty removes the reaction. */
  @ApiProperty({ description: 'Empty removes the reaction' }) @IsString() @MaxLength(16) emoji!: string;
}

export class ContextDto {
  @ApiProperty({ description: 'wamid of the message replied to' }) @IsString() @IsNotEmpty() @MaxLength(512) messageId!: string;
}

/**
 * `POST /api/v1/messages`: one WhatsApp message, shaped like the Graph API (`type` + an object named after
 * it). `interactive` is `{ type: 'button', body: { text }, buttons: [{ id, title }] }` or
 * `{ type: 'list', body: { text }, button, sections: [{ title?, rows: [{ id, title, description? }] }] }`.
 */
export class SendMessageDto {
  @ApiProperty({ description: 'The business number to send from (Meta phone_number_id)' }) @IsString() @Matches(/^\d{1,32}$/, { message: 'phoneNumberId must be digits' }) phoneNumberId!: string;
  /** wa_id (digits) or BSUID. */
  @ApiProperty({ description: 'wa_id (digits) or BSUID' }) @IsString() @IsNotEmpty() @MaxLength(140) to!: string;
  @ApiPropertyOptional({ format: 'uuid', description: "The conversation (the recipient must be its customer on its number)" }) @IsOptional() @IsUUID() conversationId?: string;
  @ApiProperty({ enum: SEND_TYPES }) @IsIn(SEND_TYPES) type!: (typeof SEND_TYPES)[number];
  @ApiPropertyOptional({ type: TextDto }) @IsOptional() @ValidateNested() @Type(() => TextDto) text?: TextDto;
  @ApiPropertyOptional({ type: MediaDto }) @IsOptional() @ValidateNested() @Type(() => MediaDto) image?: MediaDto;
  @ApiPropertyOptional({ type: MediaDto }) @IsOptional() @ValidateNested() @Type(() => MediaDto) video?: MediaDto;
  @ApiPropertyOptional({ type: MediaDto }) @IsOptional() @ValidateNested() @Type(() => MediaDto) audio?: MediaDto;
  @ApiPropertyOptional({ type: MediaDto }) @IsOptional() @ValidateNested() @Type(() => MediaDto) document?: MediaDto;
  @ApiPropertyOptional({ type: MediaDto }) @IsOptional() @ValidateNested() @Type(() => MediaDto) sticker?: MediaDto;
  @ApiPropertyOptional({ type: TemplateDto }) @IsOptional() @ValidateNested() @Type(() => TemplateDto) template?: TemplateDto;
  @ApiPropertyOptional({ type: Object, description: 'Graph-shaped interactive object (button or list)' }) @IsOptional() @IsObject() interactive?: Record<string, unknown>;
  @ApiPropertyOptional({ type: ReactionDto }) @IsOptional() @ValidateNested() @Type(() => ReactionDto) reaction?: ReactionDto;
  @ApiPropertyOptional({ type: ContextDto }) @IsOptional() @ValidateNested() @Type(() => ContextDto) context?: ContextDto;
}
