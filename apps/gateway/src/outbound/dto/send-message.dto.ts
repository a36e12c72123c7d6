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
  @IsString() @IsNotEmpty() @MaxLength(4096) body!: string;
  @IsOptional() @IsBoolean() previewUrl?: boolean;
}

export class MediaDto {
  /** A media id from the Graph media upload, or … */
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(256) id?: string;
  /** … an http(s) link WhatsApp fetches. */
  @IsOptional() @IsString() @MaxLength(2048) @Matches(/^https?:\/\//i, { message: 'link must be an http(s) URL' }) link?: string;
  @IsOptional() @IsString() @MaxLength(1024) caption?: string;
  @IsOptional() @IsString() @MaxLength(240) filename?: string;
}

export class TemplateDto {
  @IsString() @IsNotEmpty() @MaxLength(512) name!: string;
  /** e.g. en_US */
  @IsString() @IsNotEmpty() @MaxLength(16) language!: string;
  /** Graph API components: `[{ type: 'body', parameters: [{ type: 'text', text: '…' }] }]`. */
  @IsOptional() @IsArray() @IsObject({ each: true }) components?: Record<string, unknown>[];
}

export class ReactionDto {
  @IsString() @IsNotEmpty() @MaxLength(512) messageId!: string;
  /** Empty removes the reaction. */
  @IsString() @MaxLength(16) emoji!: string;
}

export class ContextDto {
  @IsString() @IsNotEmpty() @MaxLength(512) messageId!: string;
}

/**
 * `POST /api/v1/messages`: one WhatsApp message, shaped like the Graph API (`type` + an object named after
 * it). `interactive` is `{ type: 'button', body: { text }, buttons: [{ id, title }] }` or
 * `{ type: 'list', body: { text }, button, sections: [{ title?, rows: [{ id, title, description? }] }] }`.
 */
export class SendMessageDto {
  @IsString() @Matches(/^\d{1,32}$/, { message: 'phoneNumberId must be digits' }) phoneNumberId!: string;
  /** wa_id (digits) or BSUID. */
  @IsString() @IsNotEmpty() @MaxLength(140) to!: string;
  @IsOptional() @IsUUID() conversationId?: string;
  @IsIn(SEND_TYPES) type!: (typeof SEND_TYPES)[number];
  @IsOptional() @ValidateNested() @Type(() => TextDto) text?: TextDto;
  @IsOptional() @ValidateNested() @Type(() => MediaDto) image?: MediaDto;
  @IsOptional() @ValidateNested() @Type(() => MediaDto) video?: MediaDto;
  @IsOptional() @ValidateNested() @Type(() => MediaDto) audio?: MediaDto;
  @IsOptional() @ValidateNested() @Type(() => MediaDto) document?: MediaDto;
  @IsOptional() @ValidateNested() @Type(() => MediaDto) sticker?: MediaDto;
  @IsOptional() @ValidateNested() @Type(() => TemplateDto) template?: TemplateDto;
  @IsOptional() @IsObject() interactive?: Record<string, unknown>;
  @IsOptional() @ValidateNested() @Type(() => ReactionDto) reaction?: ReactionDto;
  @IsOptional() @ValidateNested() @Type(() => ContextDto) context?: ContextDto;
}
